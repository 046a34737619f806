//go:build unix

package mirror

import "syscall"

// copyClientWorks says whether this system has what copyClient needs (a
// non-blocking peek at a socket).
const copyClientWorks = true

// peekWouldBlock peeks at the socket fd without waiting and reports
// whether it would have blocked: open, nothing to read.
func peekWouldBlock(fd uintptr, buf []byte) bool {
	_, _, err := syscall.Recvfrom(int(fd), buf, syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
}
