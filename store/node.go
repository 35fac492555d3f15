package store

// Node is a domain object that clients can fetch by its global ID.
type Node interface {
	isNode()
}

func (*User) isNode()           {}
func (*Shop) isNode()           {}
func (*Product) isNode()        {}
func (*ProductVariant) isNode() {}
func (*Video) isNode()          {}
func (*LiveSession) isNode()    {}

func (*WebhookSubscription) isNode() {}
func (*WebhookDelivery) isNode()     {}

var (
	_ Content = (*Video)(nil)
	_ Content = (*LiveSession)(nil)
)
