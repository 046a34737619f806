package compare

// noiseRule decides whether a field's differences are noise; see
// NoiseConfig for the rule and why it is phrased on the excess r-n.
type noiseRule struct {
	relative, absolute float64
	minSamples         int64
}

func newNoiseRule(c NoiseConfig) noiseRule {
	return noiseRule{relative: c.RelativeThreshold, absolute: c.AbsoluteThreshold, minSamples: int64(c.MinSamples)}
}

// isNoise judges one field of one endpoint. raw counts pairs where primary
// and candidate differ on the field, out of pairs; noise counts exchanges
// where primary and secondary differ on it, out of secondary.
//
// A field is noise when the secondary shows it differing at all (noise >
// 0) on enough samples, and the candidate does not differ clearly more
// often than the secondary: the excess r-n is at most relative·r or at
// most absolute. So a timestamp that differs between the two primaries
// on every request is noise, while a price that the secondary gets wrong
// 5% of the time but the candidate always is not (excess 95%). A field
// the secondary never shows differing is never noise, however rare its
// differences.
func (r noiseRule) isNoise(raw, noise, pairs, secondary int64) bool {
	if noise == 0 || secondary == 0 || secondary < r.minSamples {
		return false
	}
	if pairs == 0 || raw == 0 {
		return true // differs only between the primaries
	}
	rawRate := float64(raw) / float64(pairs)
	noiseRate := min(float64(noise)/float64(secondary), 1)
	excess := rawRate - noiseRate
	return excess <= r.relative*rawRate || excess <= r.absolute
}
