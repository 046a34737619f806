package demo

// This file holds everything that differs between version 1 and version 2;
// the table in doc.go lists it. Latency (d) and errors (e) are applied by the
// handlers from the resolved Options, which are zero on version 1.

// cartLine is one requested line, already checked against the menu.
type cartLine struct {
	item menuItem
	qty  int
}

// price turns a cart into priced lines and a total, the way the version
// does: (a) version 1 sums exact line totals and rounds once; version 2
// rounds every line to the cent and sums the rounded lines.
func price(version int, cart []cartLine) ([]line, cents) {
	lines := make([]line, len(cart))
	var exact thirds
	var rounded cents
	for i, c := range cart {
		lt := c.item.Price * thirds(c.qty)
		exact += lt
		rounded += lt.cents()
		lines[i] = line{
			SKU:       c.item.SKU,
			Name:      c.item.Name,
			Qty:       c.qty,
			UnitPrice: c.item.Price.cents(),
			LineTotal: lt.cents(),
		}
	}
	if version == 2 {
		return lines, rounded
	}
	return lines, exact.cents()
}

// createdAtLayout is RFC 3339 with all nine digits of nanoseconds, so that
// every created_at has the same width.
const createdAtLayout = "2006-01-02T15:04:05.000000000Z07:00"

// lineV1 is an order line as version 1 writes it.
type lineV1 struct {
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Qty       int    `json:"qty"`
	UnitPrice cents  `json:"unit_price"`
	LineTotal cents  `json:"line_total"`
}

// lineV2 is an order line as version 2 writes it: (b) line_total was
// renamed lineTotal.
type lineV2 struct {
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Qty       int    `json:"qty"`
	UnitPrice cents  `json:"unit_price"`
	LineTotal cents  `json:"lineTotal"`
}

// orderJSON is an order as both versions write it; Items holds []lineV1 or
// []lineV2 and Currency is set by version 2 only: (c) the extra field.
type orderJSON struct {
	ID        string `json:"id"`
	Customer  string `json:"customer"`
	Items     any    `json:"items"`
	Total     cents  `json:"total"`
	Currency  string `json:"currency,omitempty"`
	Status    string `json:"status"`
	CreatedAt string `json:"created_at"`
	ETA       int    `json:"eta"`
	Synthetic bool   `json:"synthetic"`
	PaymentID string `json:"payment_id,omitempty"`
}

// render writes o the way the version does.
func render(version int, o order) orderJSON {
	out := orderJSON{
		ID:        o.ID,
		Customer:  o.Customer,
		Total:     o.Total,
		Status:    o.Status,
		CreatedAt: o.CreatedAt.UTC().Format(createdAtLayout),
		ETA:       o.ETA,
		Synthetic: o.Synthetic,
		PaymentID: o.PaymentID,
	}
	if version == 2 {
		items := make([]lineV2, len(o.Lines))
		for i, l := range o.Lines {
			items[i] = lineV2(l)
		}
		out.Items = items
		out.Currency = "EUR"
		return out
	}
	items := make([]lineV1, len(o.Lines))
	for i, l := range o.Lines {
		items[i] = lineV1(l)
	}
	out.Items = items
	return out
}
