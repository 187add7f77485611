package supervise

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/unit"
)

// RenderSystemd renders s as a systemd unit. It is pure: bytes out, no I/O.
//
// go-systemd's unit.Serialize writes values verbatim, so every value is
// escaped here (the original's escaper was broken, doc/supervision.md §3.3): "%" becomes
// "%%" wherever specifiers are expanded, "$" becomes "$$" in ExecStart, and
// a word or assignment with whitespace, quotes or backslashes is put in
// double quotes with "\" and `"` escaped.
//
// KillMode is left at control-group (the original set KillMode=process for
// node's helper children): stopping or restarting the gateway then leaves no
// stray children holding its ports.
func RenderSystemd(s Spec) ([]byte, error) {
	if s.Platform != Systemd {
		return nil, fmt.Errorf("RenderSystemd: spec is for %s", s.Platform)
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	var o []*unit.UnitOption
	add := func(sec, name, value string) { o = append(o, unit.NewUnitOption(sec, name, value)) }
	add("Unit", "Description", escapeSpecifiers(s.Description))
	if s.Policy.NetworkOnline {
		add("Unit", "After", "network-online.target")
		add("Unit", "Wants", "network-online.target")
	}
	if s.Policy.Notify {
		add("Service", "Type", "notify")
	}
	add("Service", "ExecStart", execLine(append([]string{s.Program}, s.Args...)))
	if s.Policy.ReloadSignal != "" {
		// $MAINPID is expanded by systemd, so it stays unescaped.
		add("Service", "ExecReload", "/bin/kill -"+s.Policy.ReloadSignal+" $MAINPID")
	}
	if s.Policy.KeepAlive {
		add("Service", "Restart", "always")
	}
	if s.Policy.RestartSec > 0 {
		add("Service", "RestartSec", strconv.Itoa(s.Policy.RestartSec))
	}
	if s.Policy.PreventExitStatus != 0 {
		add("Service", "RestartPreventExitStatus", strconv.Itoa(s.Policy.PreventExitStatus))
	}
	if s.WorkingDir != "" {
		add("Service", "WorkingDirectory", escapeSpecifiers(s.WorkingDir))
	}
	if s.User != "" {
		add("Service", "User", escapeSpecifiers(s.User))
	}
	for _, k := range slices.Sorted(maps.Keys(s.Env)) {
		add("Service", "Environment", quoteWord(k+"="+s.Env[k], false))
	}
	if s.Policy.WantedBy != "" {
		add("Install", "WantedBy", s.Policy.WantedBy)
	}
	return io.ReadAll(unit.Serialize(o))
}

// execLine quotes each word of an ExecStart command line.
func execLine(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = quoteWord(w, true)
	}
	return strings.Join(q, " ")
}

// quoteWord escapes one word for a unit value: "%" → "%%" (specifiers),
// "$" → "$$" when dollar is set (ExecStart variable expansion), and double
// quotes around anything systemd would split or unescape.
func quoteWord(w string, dollar bool) string {
	w = escapeSpecifiers(w)
	if dollar {
		w = strings.ReplaceAll(w, "$", "$$")
	}
	if w == ";" { // a lone ";" separates commands in ExecStart
		return `\;`
	}
	if w != "" && !strings.ContainsAny(w, " \t\"'\\") {
		return w
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(w) + `"`
}

func escapeSpecifiers(v string) string { return strings.ReplaceAll(v, "%", "%%") }

func unescapeSpecifiers(v string) string { return strings.ReplaceAll(v, "%%", "%") }

// splitWords splits a unit value into words the way systemd does for
// ExecStart and Environment (extract_first_word with unquoting and C
// escapes). It reports an unterminated quote.
func splitWords(v string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord, quote := false, rune(0)
	rs := []rune(v)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == '\\' && i+1 < len(rs):
			i++
			cur.WriteString(cUnescape(rs[i]))
			inWord = true
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(c)
		case c == '"' || c == '\'':
			quote, inWord = c, true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", v)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

func cUnescape(r rune) string {
	switch r {
	case 'n':
		return "\n"
	case 't':
		return "\t"
	case 'r':
		return "\r"
	case 's':
		return " "
	}
	return string(r)
}

// ParseSystemd reads a unit back into a Spec: ExecStart, Environment,
// WorkingDirectory, User and the supervision policy. Name comes from the
// embedded CLAWDBOT_SYSTEMD_UNIT (ReadInstalled falls back to the file
// name); Scope is system when the unit names a User= or multi-user.target.
func ParseSystemd(data []byte) (Spec, error) {
	opts, err := unit.DeserializeOptions(bytes.NewReader(data))
	if err != nil {
		return Spec{}, fmt.Errorf("unit: %w", err)
	}
	s := Spec{Platform: Systemd, Scope: ScopeUser, Env: map[string]string{}}
	var after, wants bool
	for _, o := range opts {
		v := strings.TrimSpace(o.Value)
		switch o.Section + "." + o.Name {
		case "Unit.Description":
			s.Description = unescapeSpecifiers(v)
		case "Unit.After":
			after = after || slices.Contains(strings.Fields(v), "network-online.target")
		case "Unit.Wants":
			wants = wants || slices.Contains(strings.Fields(v), "network-online.target")
		case "Service.Type":
			s.Policy.Notify = v == "notify" || v == "notify-reload"
		case "Service.ExecStart":
			words, err := splitWords(unescapeSpecifiers(v))
			if err != nil {
				return Spec{}, fmt.Errorf("ExecStart: %w", err)
			}
			if len(words) == 0 {
				return Spec{}, errors.New("ExecStart is empty")
			}
			for i := range words {
				words[i] = strings.ReplaceAll(words[i], "$$", "$")
			}
			s.Program = strings.TrimLeft(words[0], "@-:+!")
			s.Args = words[1:]
		case "Service.ExecReload":
			w, _ := splitWords(v)
			if len(w) == 3 && (w[0] == "/bin/kill" || w[0] == "/usr/bin/kill") && w[2] == "$MAINPID" {
				s.Policy.ReloadSignal = strings.TrimPrefix(w[1], "-")
			}
		case "Service.Restart":
			s.Policy.KeepAlive = v == "always"
		case "Service.RestartSec":
			s.Policy.RestartSec = parseSec(v)
		case "Service.KillMode":
			s.Policy.KillMode = v
		case "Service.RestartPreventExitStatus":
			if f := strings.Fields(v); len(f) > 0 {
				s.Policy.PreventExitStatus, _ = strconv.Atoi(f[0])
			}
		case "Service.WorkingDirectory":
			s.WorkingDir = unescapeSpecifiers(v)
		case "Service.User":
			s.User = unescapeSpecifiers(v)
		case "Service.Environment":
			words, err := splitWords(unescapeSpecifiers(v))
			if err != nil {
				return Spec{}, fmt.Errorf("bad Environment= line: %w", err)
			}
			for _, w := range words {
				if k, val, ok := strings.Cut(w, "="); ok {
					s.Env[k] = val
				}
			}
		case "Install.WantedBy":
			s.Policy.WantedBy = v
		}
	}
	s.Policy.NetworkOnline = after && wants
	if s.User != "" || s.Policy.WantedBy == "multi-user.target" {
		s.Scope = ScopeSystem
	}
	s.Name = s.Env[EnvUnit]
	s.fillFromEnv()
	return s, nil
}

// parseSec reads a systemd time span ("5", "5s", "500ms", "1min") into whole
// seconds, rounding to nearest; -1 when unparsable.
func parseSec(v string) int {
	if n, err := strconv.Atoi(v); err == nil {
		return n
	}
	v = strings.ReplaceAll(strings.ReplaceAll(v, "min", "m"), " ", "")
	if d, err := time.ParseDuration(v); err == nil {
		return int(d.Round(time.Second) / time.Second)
	}
	return -1
}
