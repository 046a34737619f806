//go:build !unix

package mirror

// copyClientWorks says whether this system has what copyClient needs (a
// non-blocking peek at a socket): not here, so copies go through
// http.Transport.
const copyClientWorks = false

func peekWouldBlock(uintptr, []byte) bool { return false }
