// Package cli holds what both binaries' command lines share: the exit
// codes and the errors that carry them, and one way to load configuration
// (defaults, then a YAML file, then PREFIX_* env vars, then flags, each
// overriding the one before), so shadow and synth behave alike.
package cli
