package profiles

import (
	"encoding/json"
	"os"
)

// LoadConfig is a placeholder replaced by the JSON5 loader (issue #2 helper).
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Config
	return &c, json.Unmarshal(b, &c)
}
