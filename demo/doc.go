// Package demo is a small food-order service in two versions, embedded so that
// `shadow demo` and the tests of other packages have a realistic target on
// loopback: version 1 plays the primary (and the secondary), version 2 the
// candidate. Each instance keeps its own bounded in-memory store.
//
// # Endpoints
//
//	GET  /menu                    the items that can be ordered
//	POST /orders                  create an order: 201, or 400 with a JSON error
//	GET  /orders/{id}             one order, or 404
//	GET  /orders?customer=NAME    that customer's orders, newest first, at most 50
//	POST /orders/{id}/cancel      cancel: 200, 404 unknown, 409 already cancelled
//	GET  /analytics               order count and revenue, synthetic orders left out
//	GET  /healthz                 200 "ok"
//
// # Payments
//
// With Options.Payments set, POST /orders charges the order's total to a
// payment service (Payments, served by StartPayments: POST /charges) before
// storing the order, and the order carries the charge's id as
// "payment_id"; a failed charge fails the order with 502. The charge
// passes on the request's traceparent (same trace id, new parent id), as
// an instrumented service does, so that shadow's egress can answer the
// candidate's charge from the primary's and the payment service sees one
// charge per client order. The payment service only counts charges
// (Payments.Charges, Payments.ChargedCents).
//
// An order is synthetic when the request carries the header X-Synthetic: true
// or the body field "synthetic": true. Synthetic orders are stored and served
// like any other but are left out of /analytics, which counts them separately
// in "synthetic_excluded": the pattern a real service should follow.
//
// # Noise
//
// Every version answers with fields that differ between two runs of the same
// version, so a diff tool must learn to ignore them: the Date and X-Request-Id
// headers, and the order fields "created_at" (RFC 3339 with nanoseconds) and
// "eta" (random minutes). Order ids are not noise: they come from a counter
// per instance (ord-000001, ord-000002, ...), so instances that receive the
// same creates in the same order agree on every id.
//
// # How version 2 differs
//
// Version 2 differs from version 1 the way real regressions do, and in
// nothing else:
//
//	    what                v1                                 v2
//	(a) order total         exact line totals summed, then     each line total rounded to the
//	                        rounded to the cent once           cent first, then summed: total
//	                                                           differs, usually by 0.01 either
//	                                                           way, for some carts with two or
//	                                                           more lines priced in thirds of a
//	                                                           cent (skus "soda" and "dip")
//	(b) field name          items[].line_total                 items[].lineTotal
//	(c) extra field         -                                  "currency": "EUR" on every order
//	(d) latency             -                                  GET /orders?customer= reads, then
//	                                                           waits Options.SlowDelay (3ms)
//	                                                           before answering
//	(e) errors              -                                  GET /orders/{id} answers 500 for a
//	                                                           share Options.ErrorRate (1%) of
//	                                                           requests, drawn from Options.Seed
//
// The menu prices "soda" at 3 for 4.00 and "dip" at 3 for 2.00, so their unit
// prices are 1.33⅓ and 0.66⅔: a cart such as {dip: 1, soda: 2} totals 3.33 on
// version 1 and 3.34 on version 2. Carts without those items, or with a single
// such line, total the same on both. Because /analytics sums order totals, its
// "revenue" inherits difference (a) for non-synthetic orders, and with
// Options.Payments so does the "amount" of the charge: version 2 would charge
// 3.34 where version 1 charges 3.33.
//
// LoadScenario is the built-in load for `shadow demo`: a scenario file of
// tagged synthetic journeys (order, track, list, cancel, browse) that the
// synthetic runner of package scenarios sends through the proxy.
package demo
