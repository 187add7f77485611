package profiles

import (
	"maps"
	"slices"
)

// SchemaInfo is what a JSON Schema of the config needs beyond the Go types
// of Config: the original's keys this implementation keeps without
// modelling them, and the enum and range rules the loader checks.
type SchemaInfo struct {
	// Passthrough are dotted paths of the original's config that are kept
	// verbatim (sorted).
	Passthrough []string
	// Enums are the allowed strings of a dotted path.
	Enums map[string][]string
	// Ranges are the inclusive integer bounds of a dotted path.
	Ranges map[string][2]int64
}

// ConfigSchemaInfo returns the loader's passthrough keys and rules (copies),
// for the config.schema generator.
func ConfigSchemaInfo() SchemaInfo {
	info := SchemaInfo{Enums: map[string][]string{}, Ranges: maps.Clone(rangeRules)}
	for p := range passthrough {
		info.Passthrough = append(info.Passthrough, p)
	}
	slices.Sort(info.Passthrough)
	for k, v := range enumRules {
		info.Enums[k] = slices.Clone(v)
	}
	return info
}
