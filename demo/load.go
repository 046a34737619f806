package demo

import _ "embed"

// LoadScenario is the synthetic load that `shadow demo` sends through the
// proxy: a scenario file (see scenarios.Parse) whose journeys order, track,
// list and cancel orders and browse the menu. Its target, rate and duration
// are placeholders that the demo overrides.
//
//go:embed load.yaml
var LoadScenario []byte
