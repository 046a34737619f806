package protoschema

import (
	"fmt"
	"strings"
	"time"
)

// DefaultReflectionTimeout bounds one reflection lookup when
// Config.ReflectionTimeout is 0.
const DefaultReflectionTimeout = 5 * time.Second

// Config says where descriptors come from. Its keys are those of the
// grpc section of a shadow config or a scenario file. The zero value has
// no source: every method is unknown.
type Config struct {
	// DescriptorSets are files holding a google.protobuf.FileDescriptorSet
	// in binary form, with their imports included (protoc
	// --descriptor_set_out=api.protoset --include_imports, or buf build
	// -o api.protoset). Relative paths are relative to the config file.
	DescriptorSets []string `json:"descriptor_sets,omitempty" yaml:"descriptor_sets" mapstructure:"descriptor_sets"`
	// ProtoFiles are .proto files compiled at start, named relative to one
	// of ImportPaths as they are imported ("shop/v1/orders.proto").
	// Well-known types (google/protobuf/*.proto) need no import path.
	ProtoFiles []string `json:"proto_files,omitempty" yaml:"proto_files" mapstructure:"proto_files"`
	// ImportPaths are the directories ProtoFiles and their imports are
	// found in, relative to the config file. Empty means the config
	// file's directory.
	ImportPaths []string `json:"import_paths,omitempty" yaml:"import_paths" mapstructure:"import_paths"`
	// Reflection asks the server (for shadow, the primary; for synth, the
	// target) through gRPC server reflection for services that the files
	// do not describe.
	Reflection bool `json:"reflection,omitempty" yaml:"reflection" mapstructure:"reflection"`
	// ReflectionTimeout bounds one reflection lookup. 0 means
	// DefaultReflectionTimeout.
	ReflectionTimeout time.Duration `json:"reflection_timeout,omitempty" yaml:"reflection_timeout" mapstructure:"reflection_timeout"`
}

// Problem is one thing wrong with a Config or its files: the key as
// written under grpc (descriptor_sets[0], proto_files[1]) and what is
// wrong.
type Problem struct {
	Key string
	Msg string
}

// Error formats the problem as "grpc.key: msg".
func (p Problem) Error() string { return "grpc." + p.Key + ": " + p.Msg }

// Enabled reports whether c names any source of descriptors.
func (c Config) Enabled() bool {
	return len(c.DescriptorSets) > 0 || len(c.ProtoFiles) > 0 || c.Reflection
}

// Check returns every problem with c that can be seen without reading a
// file.
func (c Config) Check() []Problem {
	var probs []Problem
	bad := func(key, format string, args ...any) {
		probs = append(probs, Problem{key, fmt.Sprintf(format, args...)})
	}
	for i, p := range c.DescriptorSets {
		if strings.TrimSpace(p) == "" {
			bad(fmt.Sprintf("descriptor_sets[%d]", i), "want a file name, got an empty one")
		}
	}
	for i, p := range c.ProtoFiles {
		key := fmt.Sprintf("proto_files[%d]", i)
		switch {
		case strings.TrimSpace(p) == "":
			bad(key, "want a .proto file name, got an empty one")
		case !strings.HasSuffix(p, ".proto"):
			bad(key, "want a .proto file, got %q", p)
		}
	}
	for i, p := range c.ImportPaths {
		if strings.TrimSpace(p) == "" {
			bad(fmt.Sprintf("import_paths[%d]", i), "want a directory, got an empty one")
		}
	}
	if len(c.ImportPaths) > 0 && len(c.ProtoFiles) == 0 {
		bad("import_paths", "set with no proto_files to compile")
	}
	if c.ReflectionTimeout < 0 {
		bad("reflection_timeout", "must not be negative, got %v", c.ReflectionTimeout)
	}
	if c.ReflectionTimeout != 0 && !c.Reflection {
		bad("reflection_timeout", "set without reflection: true")
	}
	return probs
}

// Validate returns the problems Check finds as Problems, each naming its
// key under grpc.
func (c Config) Validate() error {
	if probs := c.Check(); len(probs) > 0 {
		return Problems(probs)
	}
	return nil
}

func (c Config) reflectionTimeout() time.Duration {
	if c.ReflectionTimeout > 0 {
		return c.ReflectionTimeout
	}
	return DefaultReflectionTimeout
}
