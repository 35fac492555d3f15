package auth

import "showcase/store"

// CanManageWebhooks reports whether the viewer may read and change webhook
// subscriptions and deliveries: app tokens only, each for its own app.
// People manage their apps (createApp, rotateAppSecret, revokeApp); an
// app's webhooks are the app's own business.
func CanManageWebhooks(v Viewer) bool { return v.SignedIn() && v.App != nil }

// CanSubscribeWebhook reports whether the viewer, an app, may subscribe to
// a topic: it must hold one of the topic's scopes (store.TopicScopes).
// Which events then reach it (its own shop's, or every shop's for a
// platform app made by an admin) is decided when each event is written
// (store's eventCTEs), as the object rules here decide for reads.
func CanSubscribeWebhook(v Viewer, topic string) bool {
	scopes, ok := store.TopicScopes[topic]
	return ok && CanManageWebhooks(v) && v.App.HasAnyScope(scopes)
}
