package demo

import "strconv"

// thirds is an amount of money in thirds of a cent, so that multi-buy prices
// such as "3 for 2.00" are exact.
type thirds int64

// cents rounds t to the nearest cent. A third of a cent is never exactly
// half-way, so half-up and half-even agree.
func (t thirds) cents() cents { return cents((t + 1) / 3) }

// cents is an amount of money in whole cents. It encodes as a JSON number of
// currency units: 1250 is 12.5, 67 is 0.67.
type cents int64

// MarshalJSON writes c as a decimal number of currency units.
func (c cents) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(c)/100, 'f', -1, 64), nil
}

// menuItem is one thing a customer can order.
type menuItem struct {
	SKU      string
	Name     string
	Price    thirds
	Category string
}

// menuEntry is how an item appears on GET /menu, the same on both versions.
type menuEntry struct {
	SKU      string `json:"sku"`
	Name     string `json:"name"`
	Price    cents  `json:"price"`
	Category string `json:"category"`
}

// menu lists the items in display order. "soda" and "dip" are sold three for
// a round price, so their unit price has a third of a cent: they are the
// items whose carts version 2 totals differently.
var menu = []menuItem{
	{SKU: "pizza", Name: "Margherita pizza", Price: 1250 * 3, Category: "pizza"},
	{SKU: "pepperoni", Name: "Pepperoni pizza", Price: 1400 * 3, Category: "pizza"},
	{SKU: "pasta", Name: "Spaghetti carbonara", Price: 1325 * 3, Category: "pasta"},
	{SKU: "salad", Name: "Caesar salad", Price: 975 * 3, Category: "salad"},
	{SKU: "tiramisu", Name: "Tiramisu", Price: 650 * 3, Category: "dessert"},
	{SKU: "espresso", Name: "Espresso", Price: 220 * 3, Category: "drink"},
	{SKU: "soda", Name: "Soda can (3 for 4.00)", Price: 400, Category: "drink"},
	{SKU: "dip", Name: "Garlic dip (3 for 2.00)", Price: 200, Category: "side"},
}

// menuBySKU indexes menu.
var menuBySKU = func() map[string]menuItem {
	m := make(map[string]menuItem, len(menu))
	for _, it := range menu {
		m[it.SKU] = it
	}
	return m
}()

// menuEntries renders the menu for GET /menu.
func menuEntries() []menuEntry {
	out := make([]menuEntry, len(menu))
	for i, it := range menu {
		out[i] = menuEntry{SKU: it.SKU, Name: it.Name, Price: it.Price.cents(), Category: it.Category}
	}
	return out
}

// SKUs returns the codes of every item on the menu, in menu order, for load
// generators and scenario authors that need valid carts.
func SKUs() []string {
	out := make([]string, len(menu))
	for i, it := range menu {
		out[i] = it.SKU
	}
	return out
}
