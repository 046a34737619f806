package tui

import (
	"testing"
)

func TestPlain(t *testing.T) {
	t.Parallel()
	tripped := synthAt(5)
	tripped.Guardrail = Guardrail{State: GuardrailTripped, Reason: "p99 2.4s > 2s"}
	tripped.Result = "aborted"
	paused := shadowAt(0)
	paused.Paused, paused.Verdict = true, ""
	tuned := shadowAt(0)
	tuned.Tuning = tuningFixture()
	allOn := shadowAt(0)
	allOn.Tuning = &Tuning{SamplePercent: 100, Routes: []MirrorRoute{{Name: "a"}}}
	failing := shadowAt(0)
	failing.Failures = []UpstreamFailure{
		{Upstream: "candidate", Kind: "tls", Count: 7, Reason: "send: tls: failed to verify certificate: x509: certificate signed by unknown authority"},
		{Upstream: "candidate", Kind: "refused", Count: 2},
		{Upstream: "secondary", Kind: "protocol", Count: 1, Reason: "send: remote error: tls: no application protocol"},
	}
	hostile := synthAt(0)
	hostile.Scenario = "evil\x1b[2J\nname"

	shadowLine := "shadow · up 58m00s · received 120,000 · mirrored 118,000 · compared 117,500 · dropped 12 · " +
		"candidate errors 7 · diffs 5,344/116,950 in 4/7 endpoints · verdict fail"
	synthLine := "synth checkout · 30% stage 2/3 · 1m30s/5m00s · rate 20.0/20.0/s · in-flight 14 · " +
		"started 3,000 · done 2,980 · dropped 4 · assertion failures 172 · guardrail armed"
	cases := []struct {
		name string
		snap Snapshot
		want string
	}{
		{"neither", Snapshot{Time: t0}, ""},
		{"shadow", Snapshot{Time: t0, Shadow: shadowAt(0)}, shadowLine},
		{"synth", Snapshot{Time: t0, Synth: synthAt(0)}, synthLine},
		{"both, shadow first", Snapshot{Time: t0, Shadow: shadowAt(0), Synth: synthAt(0)}, shadowLine + "\n" + synthLine},
		{"tripped and aborted", Snapshot{Time: t0, Synth: tripped},
			"synth checkout · 32% stage 2/3 · 1m35s/5m00s · rate 33.0/35.0/s · in-flight 14 · started 3,250 · " +
				"done 3,230 · dropped 4 · assertion failures 172 · guardrail tripped (p99 2.4s > 2s) · aborted"},
		{"paused, no verdict, no clock", Snapshot{Shadow: paused},
			"shadow · received 120,000 · mirrored 118,000 · compared 117,500 · dropped 12 · candidate errors 7 · " +
				"diffs 5,344/116,950 in 4/7 endpoints · verdict pending · paused"},
		{"sampled, a route off", Snapshot{Time: t0, Shadow: tuned},
			"shadow · up 58m00s · received 120,000 · mirrored 118,000 · sample 50% · routes off cancel-order · " +
				"compared 117,500 · dropped 12 · candidate errors 7 · diffs 5,344/116,950 in 4/7 endpoints · verdict fail"},
		{"upstream failures by kind, the first reason", Snapshot{Time: t0, Shadow: failing}, shadowLine +
			" · failing: candidate tls 7, refused 2; secondary protocol 1 (send: tls: failed to verify certificate: x509: certificate signed by unknown authority)"},
		{"everything mirrored says nothing more", Snapshot{Time: t0, Shadow: allOn}, shadowLine},
		{"control characters are neutralised", Snapshot{Synth: hostile},
			"synth evil\uFFFD[2J name · 30% stage 2/3 · 1m30s/5m00s · rate 20.0/20.0/s · in-flight 14 · " +
				"started 3,000 · done 2,980 · dropped 4 · assertion failures 172 · guardrail armed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Plain(tc.snap); got != tc.want {
				t.Errorf("Plain() =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}
