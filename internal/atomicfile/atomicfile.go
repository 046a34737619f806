// Package atomicfile writes files so that a reader sees either the old
// content or the whole new content, never a half-written file: the data
// goes to a temporary file in the same directory, is synced, and is then
// renamed over the target.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write writes the file at path with mode perm through write. On any error
// the target is left as it was and the temporary file is removed.
func Write(path string, perm os.FileMode, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = fmt.Errorf("write %q: %w", path, err)
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// CheckWritable reports whether Write could write path now: its directory
// exists and takes a new file, and path is not a directory. It creates
// and removes a temporary file there, as Write would, so a run that will
// write its report at the end can refuse a bad path at the start instead
// of losing the report after the work.
func CheckWritable(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%q is a directory, not a file", path)
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		return fmt.Errorf("directory %q: %w", dir, err)
	case !fi.IsDir():
		return fmt.Errorf("%q is not a directory", dir)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.check")
	if err != nil {
		return fmt.Errorf("cannot create files in %q: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
