package exchange

// WebSocket marks an exchange that belongs to a mirrored WebSocket
// connection: its upgrade (Message 0), or one server message and its
// counterparts (Message 1, 2, ...). The proxy pairs server messages by
// position: the primary's n-th message on the connection with the
// candidate's and the secondary's n-th on theirs. Each Response's Body is
// that message's payload (Size its full length), and its Header holds
// "Websocket-Message: text", "binary" or "close" (a close frame, whose
// body is its code and reason).
type WebSocket struct {
	// Connection is the ID of the upgrade's exchange: the same on every
	// exchange of one connection.
	Connection string `msgpack:"connection" json:"connection"`
	// Message is the server message's position on the connection, from
	// 1; 0 for the upgrade itself.
	Message int `msgpack:"message" json:"message"`
}
