package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/pflag"
)

// Log is the logging part of both binaries' configuration (keys
// log.format and log.level, env PREFIX_LOG_FORMAT and PREFIX_LOG_LEVEL,
// flags --log-format and --log-level). The zero value logs text at the
// command's default level.
type Log struct {
	// Format is "text" (logfmt-like key=value lines) or "json" (one
	// object per line, for log collectors). Empty means text.
	Format string `mapstructure:"format"`
	// Level is the least severe level logged: debug, info, warn or error.
	// Empty means the command's default.
	Level string `mapstructure:"level"`
}

// AddLogFlags declares --log-format and --log-level on f; a Loader binds
// them when its Flags map them to "log.format" and "log.level".
func AddLogFlags(f *pflag.FlagSet) {
	f.String("log-format", "", "log format: text or json (default text)")
	f.String("log-level", "", "least severe level logged: debug, info, warn or error (default: the command's)")
}

// Validate names every bad field of l.
func (l Log) Validate() error {
	var errs []error
	switch strings.ToLower(l.Format) {
	case "", "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log.format: %q is not text or json", l.Format))
	}
	if _, err := l.handlerOptions(slog.LevelInfo); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Resolved returns l with its defaults filled in, text and def when l has
// no level: what the command logs with.
func (l Log) Resolved(def slog.Level) Log {
	if l.Format == "" {
		l.Format = "text"
	}
	if l.Level == "" {
		l.Level = strings.ToLower(def.String())
	}
	return l
}

// Logger returns a logger writing to w in l's format, at l's level or, when
// l has none, at def.
func (l Log) Logger(w io.Writer, def slog.Level) (*slog.Logger, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	opts, _ := l.handlerOptions(def)
	if strings.EqualFold(l.Format, "json") {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

func (l Log) handlerOptions(def slog.Level) (*slog.HandlerOptions, error) {
	level := def
	if l.Level != "" {
		if err := level.UnmarshalText([]byte(l.Level)); err != nil {
			return nil, fmt.Errorf("log.level: %q is not debug, info, warn or error", l.Level)
		}
	}
	return &slog.HandlerOptions{Level: level}, nil
}
