// Package other has no default document: a bare spec §1 cannot be resolved.
package other
