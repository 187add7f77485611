package ports

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The testdata tables were captured from a Linux host with listeners on
// 127.0.0.1:48789, 0.0.0.0:49001, [::1]:48789 and [::]:49001, an
// established connection to 48789 (both ends), and unrelated sockets.
func TestParseProcNetTCP(t *testing.T) {
	v4, err := os.ReadFile(filepath.Join("testdata", "proc_net_tcp.txt"))
	if err != nil {
		t.Fatal(err)
	}
	v6, err := os.ReadFile(filepath.Join("testdata", "proc_net_tcp6.txt"))
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.MustParseAddrPort
	tests := []struct {
		name  string
		table string
		port  int
		want  []procSocket
	}{
		// The established pair on 48789 is not a listener.
		{"v4 loopback", string(v4), 48789, []procSocket{{ap("127.0.0.1:48789"), 0, 173050}}},
		{"v4 wildcard", string(v4), 49001, []procSocket{{ap("0.0.0.0:49001"), 0, 173051}}},
		{"v4 every port", string(v4), 0, []procSocket{
			{ap("127.0.0.1:48789"), 0, 173050}, {ap("0.0.0.0:2024"), 0, 1070}, {ap("0.0.0.0:49001"), 0, 173051}}},
		{"v4 nothing there", string(v4), 1, nil},
		{"v6 loopback", string(v6), 48789, []procSocket{{ap("[::1]:48789"), 0, 173052}}},
		{"v6 wildcard", string(v6), 49001, []procSocket{{ap("[::]:49001"), 0, 173053}}},
		{"empty", "", 48789, nil},
		{"header only", "  sl  local_address rem_address   st\n", 48789, nil},
		{"uid and mapped v4", "   0: 0000000000000000FFFF00000100007F:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 42 1\n",
			8080, []procSocket{{ap("[::ffff:127.0.0.1]:8080"), 1000, 42}}},
		{"malformed lines skipped", strings.Join([]string{
			"   0: 0100007F:1F90 00000000:0000 0A 0 0 0 0 0",                                      // too short
			"   1: 0100007F1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 7 1",  // no colon
			"   2: 0100007:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 7 1",  // odd hex
			"   3: 0100007F:1F9 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 7 1",  // short port
			"   4: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 x 0 7 1", // bad uid
			"   5: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 0 1", // inode 0
			"   6: 0100007F:1F90 00000000:0000 0a 00000000:00000000 00:00000000 00000000 0 0 7 1", // not "0A"
			"   7: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 9 1", // the good one
		}, "\n"), 8080, []procSocket{{ap("127.0.0.1:8080"), 0, 9}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProcNetTCP(strings.NewReader(tt.table), tt.port)
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseProcNetTCP = %+v, %v\nwant %+v", got, err, tt.want)
			}
		})
	}
}

func TestSocketInodeAndFormat(t *testing.T) {
	for link, want := range map[string]uint64{"socket:[173050]": 173050, "socket:[]": 0, "pipe:[5]": 0, "socket:[12": 0, "/dev/null": 0} {
		if got, ok := socketInode(link); got != want || ok != (want != 0) {
			t.Errorf("socketInode(%q) = %d, %v", link, got, ok)
		}
	}
	for in, want := range map[string]string{"0.0.0.0:1": "*:1", "[::]:2": "*:2", "127.0.0.1:3": "127.0.0.1:3", "[::1]:4": "[::1]:4"} {
		if got := formatAddr(netip.MustParseAddrPort(in)); got != want {
			t.Errorf("formatAddr(%s) = %s, want %s", in, got, want)
		}
	}
}

// FuzzParseProcNetTCP: any table text parses without panic, and every
// socket returned is a listener on the asked port with an owner to find.
func FuzzParseProcNetTCP(f *testing.F) {
	for _, name := range []string{"proc_net_tcp.txt", "proc_net_tcp6.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint16(48789))
		f.Add(b, uint16(0))
	}
	f.Add([]byte("0: 0100007F:1F90 0:0 0A 0 0 0 0 0 1\n"), uint16(8080))
	f.Fuzz(func(t *testing.T, b []byte, port uint16) {
		got, err := parseProcNetTCP(bytes.NewReader(b), int(port))
		if err != nil {
			return // only a line over the scanner's limit
		}
		for _, s := range got {
			if (port != 0 && s.Addr.Port() != port) || s.Inode == 0 || !s.Addr.Addr().IsValid() {
				t.Fatalf("bad socket %+v for port %d", s, port)
			}
		}
	})
}

func TestParseLsof(t *testing.T) {
	captured, err := os.ReadFile(filepath.Join("testdata", "lsof_pcn.txt"))
	if err != nil {
		t.Fatal(err)
	}
	wildcard, err := os.ReadFile(filepath.Join("testdata", "lsof_pcn_wildcard.txt"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, out string
		want      []Listener
	}{
		// One process on 127.0.0.1 and [::1]: the first address is kept.
		{"captured dual loopback", string(captured), []Listener{{PID: 6201, Command: "python3", Address: "127.0.0.1:48789"}}},
		{"captured wildcard", string(wildcard), []Listener{{PID: 6201, Command: "python3", Address: "*:49001"}}},
		{"several, junk ignored", "p10\ncnode\nn*:18789\nn127.0.0.1:18789\np11\ncssh\nf3\nn[::1]:18789\npbad\n",
			[]Listener{{PID: 10, Command: "node", Address: "*:18789"}, {PID: 11, Command: "ssh", Address: "[::1]:18789"}}},
		{"fields before any process", "cnode\nn*:1\np0\np-3\n", nil},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseLsof(tt.out); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseLsof = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// FuzzParseLsof: any lsof output parses without panic into processes with
// a positive pid.
func FuzzParseLsof(f *testing.F) {
	for _, name := range []string{"lsof_pcn.txt", "lsof_pcn_wildcard.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("p10\ncnode\nn*:18789\np\nc\nn\n")
	f.Fuzz(func(t *testing.T, out string) {
		for _, l := range parseLsof(out) {
			if l.PID <= 0 {
				t.Fatalf("pid %d from %q", l.PID, out)
			}
		}
	})
}
