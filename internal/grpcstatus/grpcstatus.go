// Package grpcstatus names gRPC status codes as the gRPC spec writes
// them ("NOT_FOUND"), for compare's status differences and synth's
// status assertions alike, without either importing gRPC.
package grpcstatus

import (
	"strconv"
	"strings"
)

// names are the codes by number.
var names = [...]string{
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
	"ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
	"UNAUTHENTICATED",
}

// Max is the highest code the spec names (UNAUTHENTICATED).
const Max = len(names) - 1

// Name names a code: "NOT_FOUND", or "CODE(42)" for one the spec does
// not name.
func Name(code int) string {
	if code >= 0 && code < len(names) {
		return names[code]
	}
	return "CODE(" + strconv.Itoa(code) + ")"
}

// Parse reads a code's name, in any case ("NOT_FOUND", "not_found").
func Parse(name string) (int, bool) {
	for i, n := range names {
		if strings.EqualFold(n, name) {
			return i, true
		}
	}
	return 0, false
}

// List names every code, for error messages: "OK, CANCELLED, ...".
func List() string { return strings.Join(names[:], ", ") }
