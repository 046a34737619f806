//go:build !linux

package main

import "time"

// lockPacer does nothing off Linux.
func lockPacer() (unlock func()) { return func() {} }

// sleepFor sleeps d with the runtime's timers.
func sleepFor(d time.Duration) { time.Sleep(d) }
