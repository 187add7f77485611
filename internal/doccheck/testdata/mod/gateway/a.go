// Package gateway is a fixture for doccheck's own test.
package gateway

// ok: protocol spec §1.5, then bare §1 and spec §10.2 (an item of a list).
var ok = 1

// missing: spec §7 is in a code fence only; doc/protocol.md §1.6 does not
// exist; supervision spec §1.1 names a document that does not exist.
var missing = 2

// Also split across lines (spec
// §1.5) and an upstream reference owner/repo#12 that is fine.
var split = 3

/* issue #9 and (#10) are tracker numbers. */
var issues = 4
