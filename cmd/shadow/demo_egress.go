package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/demo"
	"github.com/understudy-dev/understudy/egress"
	"github.com/understudy-dev/understudy/scenarios"
)

// demoPayments names the demo's payment service as an egress dependency.
const demoPayments = "payments"

// demoEgress is the demo's egress: the payment service, each order
// service instance given its own side's listener on loopback.
func demoEgress(upstream string) egress.Config {
	return egress.Config{Dependencies: []egress.Dependency{{
		Name: demoPayments, Upstream: upstream,
		Listeners: egress.Listeners{PrimaryListen: "127.0.0.1:0", SecondaryListen: "127.0.0.1:0", CandidateListen: "127.0.0.1:0"},
	}}}
}

// placedOrders counts the orders the demo's load placed: the create steps
// answered 201, each an order the primary stored and charged.
func placedOrders(snap scenarios.Snapshot) int64 {
	var n int64
	for _, st := range snap.Steps {
		if st.Step == "create" && !st.Cleanup {
			n += st.Status[201]
		}
	}
	return n
}

// printCharges ends the demo's summary with what egress did for the
// writes: how the candidate's charges differed from the primary's, and
// how many charges the payment service made for the orders placed.
func printCharges(out io.Writer, rep *compare.Report, pay *demo.Payments, load scenarios.Snapshot, withEgress bool) {
	var lines []string
	for _, ep := range rep.Endpoints {
		for _, f := range ep.Fields {
			if !strings.HasPrefix(f.Path, compare.OutboundPrefix) || len(f.Exemplars) == 0 {
				continue
			}
			lines = append(lines, fmt.Sprintf("  %-26s %s (%d of %d pairs)", ep.Method+" "+ep.Route, f.Exemplars[0].Difference.Detail, f.Diffs, ep.Pairs))
		}
	}
	if withEgress {
		fmt.Fprintln(out, "\nWhat v2 sent to its dependencies, through egress (never sent on):")
		printOrNone(out, lines)
	}
	orders, charges := placedOrders(load), pay.Charges()
	switch {
	case !withEgress:
		fmt.Fprintf(out, "Payments: %d charges for %d orders placed (without egress every copy of the order service charges)\n", charges, orders)
	case charges == orders:
		fmt.Fprintf(out, "Payments: %d charges for %d orders placed: one per order, the copies' charges were answered by egress\n", charges, orders)
	default:
		fmt.Fprintf(out, "Payments: %d charges for %d orders placed\n", charges, orders)
	}
}
