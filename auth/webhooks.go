package auth

import (
	"sort"

	"showcase/store"
)

// webhookFieldScopes are the scopes of the webhook fields' @scope: any scope.
var webhookFieldScopes = []string{store.ScopeCatalogRead, store.ScopeCatalogWrite, store.ScopeContentRead,
	store.ScopeContentWrite, store.ScopeMetricsRead, store.ScopeOrdersRead, store.ScopeOrdersWrite}

// CanManageWebhooks reports whether the viewer may read and change webhook
// subscriptions and deliveries: app tokens only, each for its own app, and
// only of the topics WebhookTopics gives it. People manage their apps
// (createApp, rotateAppSecret, revokeApp); an app's webhooks are the app's
// own business.
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

// CanSeeWebhook reports whether the viewer may see an app's webhook
// subscription or delivery of a topic (through node and nodes as through
// the webhook fields): only a token of that app (CanManageWebhooks), and
// only for a topic its scopes allow (CanSubscribeWebhook, as WebhookTopics).
// Everyone else, people and admins included, gets NOT_FOUND (node: null).
func CanSeeWebhook(v Viewer, appID int64, topic string) bool {
	return CanManageWebhooks(v) && v.App.AppID == appID && CanSubscribeWebhook(v, topic)
}

// WebhookTopics returns the topics whose subscriptions and deliveries the
// viewer, an app token, may see and act on (list, update, delete,
// redeliver): those it could subscribe to (CanSubscribeWebhook), in sorted
// order. The token is the limit, not the app: a token narrowed to
// catalog:read (client_credentials with scope=catalog:read) does not see or
// touch the app's ORDER_PAID subscription, which is left out of lists and
// NOT_FOUND to mutations, as objects a viewer may not see are. Empty (never
// nil) for anyone but an app.
func WebhookTopics(v Viewer) []string {
	topics := []string{}
	for topic := range store.TopicScopes {
		if CanSubscribeWebhook(v, topic) {
			topics = append(topics, topic)
		}
	}
	sort.Strings(topics)
	return topics
}

// CanRotateWebhookSecret reports whether the viewer, an app token, may
// replace its app's webhook secret, given the topics the app subscribes to
// (subscribed): the secret signs every delivery the app receives, so the
// token must be allowed each of those topics (every scope they need).
func CanRotateWebhookSecret(v Viewer, subscribed []string) bool {
	if !CanManageWebhooks(v) {
		return false
	}
	for _, topic := range subscribed {
		if !CanSubscribeWebhook(v, topic) {
			return false
		}
	}
	return true
}
