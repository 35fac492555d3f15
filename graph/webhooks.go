package graph

import (
	"context"
	"time"

	"showcase/auth"
	"showcase/graph/model"
	"showcase/store"
	"showcase/webhook"
)

// webhookApp returns the calling app's id and the topics its token may see
// and act on (auth.WebhookTopics), or FORBIDDEN for anyone but an app token
// (auth.CanManageWebhooks).
func webhookApp(ctx context.Context) (int64, []string, error) {
	v, err := requireViewer(ctx)
	if err != nil {
		return 0, nil, err
	}
	if !auth.CanManageWebhooks(v) {
		return 0, nil, store.Errorf(store.EForbidden, "webhooks belong to apps: call with an app token")
	}
	return v.App.AppID, auth.WebhookTopics(v), nil
}

// webhookPolicy is the callback URL rule of this server (production or
// development).
func (r *Resolver) webhookPolicy() webhook.Policy { return webhook.Policy{Production: r.Production} }

func (r *Resolver) webhookSubscriptionCreate(ctx context.Context, topic string, in model.WebhookSubscriptionInput) (*model.WebhookSubscriptionCreatePayload, error) {
	appID, _, err := webhookApp(ctx)
	if err != nil {
		return nil, err
	}
	if !auth.CanSubscribeWebhook(auth.ViewerFrom(ctx), topic) {
		return &model.WebhookSubscriptionCreatePayload{UserErrors: fieldError("topic", model.UserErrorCodeInvalid,
			"the app's scopes do not allow "+topic+" (it needs "+store.TopicScopes[topic][0]+")")}, nil
	}
	if err := r.webhookPolicy().CheckURL(ctx, in.CallbackURL); err != nil {
		return &model.WebhookSubscriptionCreatePayload{UserErrors: userErrorsOf(err, "webhookSubscription")}, nil
	}
	sub, secret, err := r.DB.CreateWebhookSubscription(ctx, appID, topic, in.CallbackURL)
	if e, ok := store.AsError(err); ok && e.Field != "" {
		return &model.WebhookSubscriptionCreatePayload{UserErrors: userErrorsOf(err, "webhookSubscription")}, nil
	}
	if err != nil {
		return nil, err
	}
	out := &model.WebhookSubscriptionCreatePayload{WebhookSubscription: sub, UserErrors: []*model.UserError{}}
	if secret != "" {
		out.WebhookSecret = &secret
	}
	return out, nil
}

func (r *Resolver) webhookSubscriptionUpdate(ctx context.Context, gid string, in model.WebhookSubscriptionInput) (*model.WebhookSubscriptionUpdatePayload, error) {
	appID, topics, err := webhookApp(ctx)
	if err != nil {
		return nil, err
	}
	id, err := parseTypedID(gid, typeWebhookSubscription)
	if err != nil {
		return nil, err
	}
	if err := r.webhookPolicy().CheckURL(ctx, in.CallbackURL); err != nil {
		return &model.WebhookSubscriptionUpdatePayload{UserErrors: userErrorsOf(err, "webhookSubscription")}, nil
	}
	sub, err := r.DB.UpdateWebhookSubscription(ctx, appID, id, topics, in.CallbackURL)
	if e, ok := store.AsError(err); ok && e.Field != "" {
		return &model.WebhookSubscriptionUpdatePayload{UserErrors: userErrorsOf(err, "webhookSubscription")}, nil
	}
	if err != nil {
		return nil, err
	}
	return &model.WebhookSubscriptionUpdatePayload{WebhookSubscription: sub, UserErrors: []*model.UserError{}}, nil
}

func (r *Resolver) webhookSubscriptionDelete(ctx context.Context, gid string) (*model.WebhookSubscriptionDeletePayload, error) {
	appID, topics, err := webhookApp(ctx)
	if err != nil {
		return nil, err
	}
	id, err := parseTypedID(gid, typeWebhookSubscription)
	if err != nil {
		return nil, err
	}
	if err := r.DB.DeleteWebhookSubscription(ctx, appID, id, topics); err != nil {
		return nil, err
	}
	return &model.WebhookSubscriptionDeletePayload{DeletedWebhookSubscriptionID: &gid, UserErrors: []*model.UserError{}}, nil
}

// webhookSecretRotate's argument is Int! (with a default) rather than Int:
// the complexity limit weighs every field whose first argument is *int as a
// connection (weightByFirst).
func (r *Resolver) webhookSecretRotate(ctx context.Context, previousExpiresIn int) (*model.WebhookSecretRotatePayload, error) {
	appID, _, err := webhookApp(ctx)
	if err != nil {
		return nil, err
	}
	overlap := time.Duration(previousExpiresIn) * time.Second
	if previousExpiresIn < 0 || overlap > store.MaxWebhookSecretOverlap {
		overlap = -1 // refused by the store, with the field's error
	}
	v := auth.ViewerFrom(ctx)
	secret, until, err := r.DB.RotateWebhookSecret(ctx, appID, overlap, func(subscribed []string) bool {
		return auth.CanRotateWebhookSecret(v, subscribed)
	})
	if e, ok := store.AsError(err); ok && e.Field != "" {
		return &model.WebhookSecretRotatePayload{UserErrors: []*model.UserError{toUserError(e, "")}}, nil
	}
	if err != nil {
		return nil, err
	}
	return &model.WebhookSecretRotatePayload{WebhookSecret: &secret, PreviousSecretExpiresAt: until, UserErrors: []*model.UserError{}}, nil
}

func (r *Resolver) webhookDeliveryRedeliver(ctx context.Context, gid string) (*model.WebhookDeliveryRedeliverPayload, error) {
	appID, topics, err := webhookApp(ctx)
	if err != nil {
		return nil, err
	}
	id, err := parseTypedID(gid, typeWebhookDelivery)
	if err != nil {
		return nil, err
	}
	d, err := r.DB.RedeliverWebhook(ctx, appID, id, topics)
	if err != nil {
		return nil, err
	}
	return &model.WebhookDeliveryRedeliverPayload{WebhookDelivery: d, UserErrors: []*model.UserError{}}, nil
}

func (r *Resolver) webhookSubscriptions(ctx context.Context, first *int, after *string) (*model.WebhookSubscriptionConnection, error) {
	appID, topics, err := webhookApp(ctx)
	if err != nil {
		return nil, err
	}
	args, err := store.NewPageArgs(first, after)
	if err != nil {
		return nil, err
	}
	p, err := r.DB.WebhookSubscriptions(ctx, appID, topics, args)
	if err != nil {
		return nil, err
	}
	return &model.WebhookSubscriptionConnection{PageInfo: pageInfo(p), Edges: edges(p, func(c string, n *store.WebhookSubscription) *model.WebhookSubscriptionEdge {
		return &model.WebhookSubscriptionEdge{Cursor: c, Node: n}
	})}, nil
}

func (r *Resolver) webhookDeliveries(ctx context.Context, first *int, after *string, status *string) (*model.WebhookDeliveryConnection, error) {
	appID, topics, err := webhookApp(ctx)
	if err != nil {
		return nil, err
	}
	args, err := store.NewPageArgs(first, after)
	if err != nil {
		return nil, err
	}
	p, err := r.DB.WebhookDeliveries(ctx, appID, topics, status, args)
	if err != nil {
		return nil, err
	}
	return &model.WebhookDeliveryConnection{PageInfo: pageInfo(p), Edges: edges(p, func(c string, n *store.WebhookDelivery) *model.WebhookDeliveryEdge {
		return &model.WebhookDeliveryEdge{Cursor: c, Node: n}
	})}, nil
}

// nextAttemptAt is when a pending delivery is due; nil otherwise.
func nextAttemptAt(d *store.WebhookDelivery) *time.Time {
	if d.Status != store.DeliveryPending {
		return nil
	}
	return &d.NextAttemptAt
}

// userErrorsOf turns a field error into userErrors under prefix.
func userErrorsOf(err error, prefix string) []*model.UserError {
	e, _ := store.AsError(err)
	return []*model.UserError{toUserError(e, prefix)}
}
