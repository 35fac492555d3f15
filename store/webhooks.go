package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Webhook topics: the changes an app may subscribe to.
const (
	TopicOrderPaid          = "ORDER_PAID"
	TopicOrderFulfilled     = "ORDER_FULFILLED"
	TopicOrderCancelled     = "ORDER_CANCELLED"
	TopicOrderRefunded      = "ORDER_REFUNDED"
	TopicProductUpdated     = "PRODUCT_UPDATED"
	TopicInventoryChanged   = "INVENTORY_CHANGED"
	TopicLiveSessionStarted = "LIVE_SESSION_STARTED"
	TopicLiveSessionEnded   = "LIVE_SESSION_ENDED"
)

// TopicScopes maps each webhook topic to the scopes an app needs to
// subscribe to it (any one of them): the read scope of the object the event
// is about.
var TopicScopes = map[string][]string{
	TopicOrderPaid:          {ScopeOrdersRead},
	TopicOrderFulfilled:     {ScopeOrdersRead},
	TopicOrderCancelled:     {ScopeOrdersRead},
	TopicOrderRefunded:      {ScopeOrdersRead},
	TopicProductUpdated:     {ScopeCatalogRead},
	TopicInventoryChanged:   {ScopeCatalogRead},
	TopicLiveSessionStarted: {ScopeContentRead},
	TopicLiveSessionEnded:   {ScopeContentRead},
}

// Webhook delivery statuses.
const (
	DeliveryPending   = "PENDING"
	DeliveryDelivered = "DELIVERED"
	DeliveryFailed    = "FAILED"
)

// MaxWebhookURLLength bounds a subscription's callback URL.
const MaxWebhookURLLength = 2048

// MaxStoredResponseBody is how many bytes of a receiver's response body a
// delivery keeps (for the app's delivery log); the rest is discarded.
const MaxStoredResponseBody = 1024

// WebhookSubscription is an app's subscription to one topic at one URL.
type WebhookSubscription struct {
	ID          int64     `db:"id"`
	AppID       int64     `db:"app_id"`
	Topic       string    `db:"topic"`
	CallbackURL string    `db:"url"`
	CreatedAt   time.Time `db:"created_at"`
	UpdatedAt   time.Time `db:"updated_at"`
}

const webhookSubscriptionColumns = `id, app_id, topic, url, created_at, updated_at`

// WebhookDelivery is one event sent (or to be sent) to one subscription: a
// line of the app's delivery log.
type WebhookDelivery struct {
	ID               int64      `db:"id"`
	EventID          string     `db:"event_id"`
	Topic            string     `db:"topic"`
	SubscriptionID   *int64     `db:"subscription_id"`
	AppID            int64      `db:"app_id"`
	Status           string     `db:"status"`
	Attempts         int        `db:"attempts"`
	NextAttemptAt    time.Time  `db:"next_attempt_at"`
	LastAttemptAt    *time.Time `db:"last_attempt_at"`
	LastResponseCode *int       `db:"last_response_code"`
	LastResponseBody *string    `db:"last_response_body"`
	LastError        *string    `db:"last_error"`
	DeliveredAt      *time.Time `db:"delivered_at"`
	CreatedAt        time.Time  `db:"created_at"`
	// Subscription is the subscription it was sent to, loaded with the
	// delivery; nil when it was deleted.
	Subscription *WebhookSubscription `db:"-"`
}

const webhookDeliveryColumns = `d.id, d.event_id, e.topic, d.subscription_id, d.app_id, d.status, d.attempts,
	d.next_attempt_at, d.last_attempt_at, d.last_response_code, d.last_response_body, d.last_error, d.delivered_at, d.created_at`

// ValidTopic reports whether t is a webhook topic.
func ValidTopic(t string) bool {
	_, ok := TopicScopes[t]
	return ok
}

// CreateWebhookSubscription subscribes an active app to a topic at a URL
// (checked by the caller). When the app had no webhook secret yet, one is
// made and returned as secret (shown only then); otherwise secret is "".
// The same topic and URL twice is a TAKEN field error on callbackUrl.
func (db *DB) CreateWebhookSubscription(ctx context.Context, appID int64, topic, url string) (sub *WebhookSubscription, secret string, err error) {
	fresh := NewSecret()
	sealed, err := db.WebhookKeys.seal(appID, fresh)
	if err != nil {
		return nil, "", err
	}
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		var made bool
		if err := tx.GetContext(ctx, &made, `UPDATE apps SET webhook_secret = coalesce(webhook_secret, $2)
			WHERE id = $1 AND revoked_at IS NULL RETURNING webhook_secret = $2`, appID, sealed); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return Errorf(ENotFound, "app not found")
			}
			return fmt.Errorf("app webhook secret: %w", err)
		}
		if made {
			secret = fresh
		}
		var err error
		sub, err = getOne[WebhookSubscription](ctx, tx, `INSERT INTO webhook_subscriptions (app_id, topic, url)
			VALUES ($1, $2, $3) ON CONFLICT (app_id, topic, url) DO NOTHING RETURNING `+webhookSubscriptionColumns,
			"webhook subscription", appID, topic, url)
		if ErrorCode(err) == ENotFound {
			return FieldErrorf(EConflict, "callbackUrl", "the app already subscribes to %s at this URL", topic).Because(ReasonTaken)
		}
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return sub, secret, nil
}

// UpdateWebhookSubscription points an app's subscription at another URL;
// deliveries still pending go to the new URL. topics are the topics the
// caller may act on (auth.WebhookTopics). NOT_FOUND when the app has no such
// subscription of one of topics.
func (db *DB) UpdateWebhookSubscription(ctx context.Context, appID, id int64, topics []string, url string) (*WebhookSubscription, error) {
	sub, err := getOne[WebhookSubscription](ctx, db.DB, `UPDATE webhook_subscriptions SET url = $3, updated_at = now()
		WHERE id = $1 AND app_id = $2 AND topic = ANY($4) RETURNING `+webhookSubscriptionColumns,
		"webhook subscription", id, appID, url, pq.Array(topics))
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23505" {
		return nil, FieldErrorf(EConflict, "callbackUrl", "the app already subscribes to this topic at this URL").Because(ReasonTaken)
	}
	return sub, err
}

// DeleteWebhookSubscription ends an app's subscription; its pending
// deliveries are marked FAILED (the log keeps them). topics are the topics
// the caller may act on (auth.WebhookTopics). NOT_FOUND when the app has no
// such subscription of one of topics.
func (db *DB) DeleteWebhookSubscription(ctx context.Context, appID, id int64, topics []string) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'FAILED', last_error = 'subscription deleted', settled_at = now()
			WHERE subscription_id = $1 AND app_id = $2 AND status = 'PENDING'`, id, appID); err != nil {
			return fmt.Errorf("fail pending deliveries: %w", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_subscriptions WHERE id = $1 AND app_id = $2 AND topic = ANY($3)`,
			id, appID, pq.Array(topics))
		if err != nil {
			return fmt.Errorf("delete webhook subscription: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return Errorf(ENotFound, "webhook subscription not found")
		}
		return nil
	})
}

// MaxWebhookSecretOverlap bounds how long a replaced webhook secret may
// keep signing deliveries after webhookSecretRotate.
const MaxWebhookSecretOverlap = 7 * 24 * time.Hour

// RotateWebhookSecret gives an active app a new webhook secret and returns
// it (shown only now). Deliveries sent from then on are signed with it and,
// for overlap after the rotation (0 for none, at most
// MaxWebhookSecretOverlap), also with the secret it replaces, so that
// receivers can switch without refusing a delivery; a second rotation within
// the overlap ends the first one's (only the secret replaced last is kept).
// may decides, from the distinct topics the app subscribes to (sorted),
// whether the caller may (auth.CanRotateWebhookSecret); it is asked with the
// app's row locked, the lock webhookSubscriptionCreate also takes, so no
// subscription slips in between. FORBIDDEN when may refuses, NOT_FOUND when
// the app is gone or revoked, a BAD_USER_INPUT field error on
// previousSecretExpiresIn for an overlap out of range.
func (db *DB) RotateWebhookSecret(ctx context.Context, appID int64, overlap time.Duration, may func(subscribed []string) bool) (secret string, previousUntil *time.Time, err error) {
	if overlap < 0 || overlap > MaxWebhookSecretOverlap {
		return "", nil, FieldErrorf(EInvalid, "previousSecretExpiresIn", "the overlap must be from 0 to %d seconds", int(MaxWebhookSecretOverlap.Seconds()))
	}
	secret = NewSecret()
	sealed, err := db.WebhookKeys.seal(appID, secret)
	if err != nil {
		return "", nil, err
	}
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		var id int64
		if err := tx.GetContext(ctx, &id, `SELECT id FROM apps WHERE id = $1 AND revoked_at IS NULL FOR UPDATE`, appID); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return Errorf(ENotFound, "app not found")
			}
			return fmt.Errorf("lock app: %w", err)
		}
		var topics []string
		if err := tx.SelectContext(ctx, &topics, `SELECT DISTINCT topic FROM webhook_subscriptions WHERE app_id = $1 ORDER BY topic`, appID); err != nil {
			return fmt.Errorf("subscribed topics: %w", err)
		}
		if !may(topics) {
			return Errorf(EForbidden, "the app subscribes to topics this token's scopes do not allow; rotate the secret with a token holding their scopes")
		}
		if err := tx.GetContext(ctx, &previousUntil, `UPDATE apps SET webhook_secret = $2,
				webhook_secret_previous = CASE WHEN $3::interval > '0'::interval THEN webhook_secret END,
				webhook_secret_previous_until = CASE WHEN $3::interval > '0'::interval AND webhook_secret IS NOT NULL THEN now() + $3::interval END
			WHERE id = $1 RETURNING webhook_secret_previous_until`, appID, sealed, interval(overlap)); err != nil {
			return fmt.Errorf("rotate webhook secret: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	return secret, previousUntil, nil
}

// ResealWebhookSecrets seals with the current key of db.WebhookKeys every
// webhook secret stored otherwise (as is, or under an older key), up to
// limit apps, and returns how many it resealed. Each row is rewritten only
// if unchanged since it was read, so a rotation at the same moment wins,
// and replicas may run it at once. A secret sealed with a key no longer
// given is left as it is (and logged by the caller's error). Nothing to do
// without keys.
func (db *DB) ResealWebhookSecrets(ctx context.Context, limit int) (int, error) {
	if db.WebhookKeys == nil {
		return 0, nil
	}
	prefix := sealedPrefix + db.WebhookKeys.CurrentID() + ":"
	var rows []struct {
		ID       int64          `db:"id"`
		Secret   sql.NullString `db:"webhook_secret"`
		Previous sql.NullString `db:"webhook_secret_previous"`
	}
	if err := db.SelectContext(ctx, &rows, `SELECT id, webhook_secret, webhook_secret_previous FROM apps
		WHERE (webhook_secret IS NOT NULL AND left(webhook_secret, length($1)) <> $1)
		   OR (webhook_secret_previous IS NOT NULL AND left(webhook_secret_previous, length($1)) <> $1)
		ORDER BY id LIMIT $2`, prefix, limit); err != nil {
		return 0, fmt.Errorf("secrets to reseal: %w", err)
	}
	n := 0
	var firstErr error
	for _, r := range rows {
		reseal := func(v sql.NullString) (sql.NullString, error) {
			if !v.Valid || db.WebhookKeys.isCurrent(v.String) {
				return v, nil
			}
			plain, err := db.WebhookKeys.open(r.ID, v.String)
			if err != nil {
				return v, err
			}
			s, err := db.WebhookKeys.seal(r.ID, plain)
			return sql.NullString{String: s, Valid: true}, err
		}
		secret, err1 := reseal(r.Secret)
		previous, err2 := reseal(r.Previous)
		if err := errors.Join(err1, err2); err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("app %d: %w", r.ID, err)
			}
			continue
		}
		res, err := db.ExecContext(ctx, `UPDATE apps SET webhook_secret = $2, webhook_secret_previous = $3
			WHERE id = $1 AND webhook_secret IS NOT DISTINCT FROM $4 AND webhook_secret_previous IS NOT DISTINCT FROM $5`,
			r.ID, secret, previous, r.Secret, r.Previous)
		if err != nil {
			return n, fmt.Errorf("reseal app %d: %w", r.ID, err)
		}
		if k, _ := res.RowsAffected(); k == 1 {
			n++
		}
	}
	return n, firstErr
}

// SweepWebhookLog deletes, up to limit of each, the deliveries that settled
// (DELIVERED or FAILED) more than retention ago, and then the events created
// more than retention ago that have no delivery left; it returns how many of
// each it deleted. A PENDING delivery is never deleted, however old (one
// redelivered just now included: the row is locked and its status checked
// again before it goes), nor its event. Rows another replica is sweeping
// are skipped, so replicas may sweep at once.
func (db *DB) SweepWebhookLog(ctx context.Context, retention time.Duration, limit int) (deliveries, events int, err error) {
	if retention <= 0 {
		return 0, 0, fmt.Errorf("webhook retention must be positive, not %s", retention)
	}
	err = db.retry(ctx, func() error {
		return db.GetContext(ctx, &deliveries, `WITH gone AS (
				DELETE FROM webhook_deliveries WHERE id IN (
					SELECT id FROM webhook_deliveries
					WHERE status <> 'PENDING' AND settled_at < now() - $1::interval
					ORDER BY settled_at LIMIT $2 FOR UPDATE SKIP LOCKED)
				AND status <> 'PENDING' RETURNING 1)
			SELECT count(*) FROM gone`, interval(retention), limit)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("sweep webhook deliveries: %w", err)
	}
	err = db.retry(ctx, func() error {
		return db.GetContext(ctx, &events, `WITH gone AS (
				DELETE FROM webhook_events WHERE id IN (
					SELECT e.id FROM webhook_events e
					WHERE e.created_at < now() - $1::interval
					  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)
					ORDER BY e.created_at LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING 1)
			SELECT count(*) FROM gone`, interval(retention), limit)
	})
	if err != nil {
		return deliveries, 0, fmt.Errorf("sweep webhook events: %w", err)
	}
	return deliveries, events, nil
}

// WebhookSubscriptions pages through an app's subscriptions of topics (those
// the caller may see, auth.WebhookTopics), oldest first.
func (db *DB) WebhookSubscriptions(ctx context.Context, appID int64, topics []string, args PageArgs) (Page[*WebhookSubscription], error) {
	after, err := afterID(args.After)
	if err != nil {
		return Page[*WebhookSubscription]{}, err
	}
	var rows []*WebhookSubscription
	if err := db.SelectContext(ctx, &rows, `SELECT `+webhookSubscriptionColumns+` FROM webhook_subscriptions
		WHERE app_id = $1 AND id > $2 AND topic = ANY($4) ORDER BY id LIMIT $3`, appID, after, args.First+1, pq.Array(topics)); err != nil {
		return Page[*WebhookSubscription]{}, fmt.Errorf("webhook subscriptions: %w", err)
	}
	return newPage(rows, args, func(s *WebhookSubscription) string { return cursorForID(s.ID) }), nil
}

// WebhookSubscriptionsByIDs loads subscriptions by id in one statement.
func (db *DB) WebhookSubscriptionsByIDs(ctx context.Context, ids []int64) (map[int64]*WebhookSubscription, error) {
	var rows []*WebhookSubscription
	if err := db.SelectContext(ctx, &rows, `SELECT `+webhookSubscriptionColumns+` FROM webhook_subscriptions WHERE id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("webhook subscriptions by ids: %w", err)
	}
	return indexByID(rows, func(s *WebhookSubscription) int64 { return s.ID }), nil
}

// WebhookDeliveriesByIDs loads deliveries by id, each with its event's
// topic and its subscription, in two statements.
func (db *DB) WebhookDeliveriesByIDs(ctx context.Context, ids []int64) (map[int64]*WebhookDelivery, error) {
	var rows []*WebhookDelivery
	if err := db.SelectContext(ctx, &rows, `SELECT `+webhookDeliveryColumns+`
		FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id WHERE d.id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("webhook deliveries by ids: %w", err)
	}
	if err := db.attachSubscriptions(ctx, rows); err != nil {
		return nil, err
	}
	return indexByID(rows, func(d *WebhookDelivery) int64 { return d.ID }), nil
}

// WebhookDeliveries pages through an app's delivery log of events of topics
// (those the caller may see, auth.WebhookTopics), newest first, optionally
// only those with status.
func (db *DB) WebhookDeliveries(ctx context.Context, appID int64, topics []string, status *string, args PageArgs) (Page[*WebhookDelivery], error) {
	var before int64 = 1<<63 - 1
	if args.After != "" {
		if err := decodeCursor(args.After, &before); err != nil {
			return Page[*WebhookDelivery]{}, err
		}
	}
	var rows []*WebhookDelivery
	if err := db.SelectContext(ctx, &rows, `SELECT `+webhookDeliveryColumns+`
		FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
		WHERE d.app_id = $1 AND d.id < $2 AND ($3::text IS NULL OR d.status = $3) AND e.topic = ANY($5)
		ORDER BY d.id DESC LIMIT $4`, appID, before, status, args.First+1, pq.Array(topics)); err != nil {
		return Page[*WebhookDelivery]{}, fmt.Errorf("webhook deliveries: %w", err)
	}
	if err := db.attachSubscriptions(ctx, rows); err != nil {
		return Page[*WebhookDelivery]{}, err
	}
	return newPage(rows, args, func(d *WebhookDelivery) string { return encodeCursor(d.ID) }), nil
}

// RedeliverWebhook queues one of an app's deliveries to be sent again at
// once, with the same event id: a delivered or failed one starts a new
// series of attempts (a day of retries again). topics are the topics the
// caller may act on (auth.WebhookTopics). NOT_FOUND when the app has no such
// delivery of an event of one of topics.
func (db *DB) RedeliverWebhook(ctx context.Context, appID, id int64, topics []string) (*WebhookDelivery, error) {
	d, err := getOne[WebhookDelivery](ctx, db.DB, `WITH d AS (
			UPDATE webhook_deliveries SET next_attempt_at = now(),
				window_start = CASE WHEN status = 'PENDING' THEN window_start ELSE now() END,
				status = 'PENDING', settled_at = NULL
			WHERE id = $1 AND app_id = $2 AND subscription_id IS NOT NULL
				AND event_id IN (SELECT id FROM webhook_events WHERE topic = ANY($3)) RETURNING *)
		SELECT `+webhookDeliveryColumns+` FROM d JOIN webhook_events e ON e.id = d.event_id`,
		"webhook delivery", id, appID, pq.Array(topics))
	if err != nil {
		return nil, err
	}
	return d, db.attachSubscriptions(ctx, []*WebhookDelivery{d})
}

// attachSubscriptions loads the subscriptions of deliveries in one statement.
func (db *DB) attachSubscriptions(ctx context.Context, ds []*WebhookDelivery) error {
	var ids []int64
	for _, d := range ds {
		if d.SubscriptionID != nil {
			ids = append(ids, *d.SubscriptionID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	subs, err := db.WebhookSubscriptionsByIDs(ctx, ids)
	if err != nil {
		return err
	}
	for _, d := range ds {
		if d.SubscriptionID != nil {
			d.Subscription = subs[*d.SubscriptionID]
		}
	}
	return nil
}

// eventCTEs returns common table expressions (starting with a comma, to
// follow a WITH list) that record an event of topic for each row of the
// relation src, which has the columns shop_id (the shop the change belongs
// to, NULL for none) and payload (jsonb), and one delivery for each
// subscription that may receive it. name prefixes the CTEs' names so that
// several can share a statement. An event nobody may receive is not
// written.
//
// Who receives an event: subscriptions to the topic of active apps holding
// the topic's scope, that are the shop's own apps, or platform apps made by
// an admin. A shop app never hears about another shop (as auth's rules say
// for reading the objects: an app sees its shop's orders, drafts and live
// sessions only).
func eventCTEs(name, topic, src string) string {
	scopes := TopicScopes[topic]
	if len(scopes) == 0 {
		panic("eventCTEs: unknown topic " + topic)
	}
	match := func(shop string) string {
		return `s.topic = '` + topic + `' AND a.revoked_at IS NULL AND a.scopes && ARRAY['` + scopes[0] + `']
			AND (a.shop_id = ` + shop + ` OR (a.shop_id IS NULL
			     AND EXISTS (SELECT 1 FROM users u WHERE u.id = a.created_by AND u.is_admin)))`
	}
	return `, ` + name + `_ev AS (
			INSERT INTO webhook_events (topic, shop_id, payload)
			SELECT '` + topic + `', x.shop_id, x.payload FROM ` + src + ` x
			WHERE EXISTS (SELECT 1 FROM webhook_subscriptions s JOIN apps a ON a.id = s.app_id WHERE ` + match("x.shop_id") + `)
			RETURNING id, shop_id
		), ` + name + `_del AS (
			INSERT INTO webhook_deliveries (event_id, subscription_id, app_id)
			SELECT ev.id, s.id, s.app_id FROM ` + name + `_ev ev
			JOIN webhook_subscriptions s ON s.topic = '` + topic + `'
			JOIN apps a ON a.id = s.app_id
			WHERE ` + match("ev.shop_id") + `
		)`
}

// recordEvents writes, in tx, an event of topic for each row of the query
// src (columns shop_id and payload) with its deliveries (see eventCTEs).
func recordEvents(ctx context.Context, tx *sqlx.Tx, topic, src string, args ...any) error {
	if _, err := tx.ExecContext(ctx, `WITH src AS (`+src+`)`+eventCTEs("w", topic, "src")+` SELECT 1`, args...); err != nil {
		return fmt.Errorf("record %s events: %w", topic, err)
	}
	return nil
}

// Event payloads, as SQL over a row aliased o (orders), p (products), v
// (variants, with p its product) or c (contents). They name objects by the
// API's global IDs; an app reads the rest through the API with its token.
const (
	orderEventPayload = `jsonb_build_object('order', jsonb_build_object('id', webhook_gid('Order', o.id),
		'status', o.status, 'shopId', webhook_gid('Shop', o.shop_id)))`
	productEventPayload = `jsonb_build_object('product', jsonb_build_object('id', webhook_gid('Product', p.id),
		'status', p.status, 'title', p.title, 'shopId', webhook_gid('Shop', p.shop_id), 'updatedAt', p.updated_at))`
	inventoryEventPayload = `jsonb_build_object('productVariant', jsonb_build_object('id', webhook_gid('ProductVariant', v.id),
		'productId', webhook_gid('Product', v.product_id), 'shopId', webhook_gid('Shop', p.shop_id), 'stock', v.stock))`
	liveEventPayload = `jsonb_build_object('liveSession', jsonb_build_object('id', webhook_gid('LiveSession', c.id),
		'status', c.live_status, 'shopId', CASE WHEN c.shop_id IS NULL THEN NULL ELSE webhook_gid('Shop', c.shop_id) END,
		'startedAt', c.started_at, 'endedAt', c.ended_at))`
)

// recordProductUpdated writes a PRODUCT_UPDATED event for a product in tx
// (its media or a variant's image changed).
func recordProductUpdated(ctx context.Context, tx *sqlx.Tx, productID int64) error {
	return recordEvents(ctx, tx, TopicProductUpdated, `SELECT p.shop_id, `+productEventPayload+` AS payload
		FROM products p WHERE p.id = $1`, productID)
}

// WebhookAttempt is a delivery claimed for one attempt: what to send, where,
// and with which secret.
type WebhookAttempt struct {
	DeliveryID int64  `db:"id"`
	AppID      int64  `db:"app_id"`
	Attempt    int    `db:"attempts"`
	EventID    string `db:"event_id"`
	Topic      string `db:"topic"`
	// Body is the JSON document sent: {id, topic, createdAt, data}.
	Body []byte
	// URL and Secret are empty when the subscription was deleted or the app
	// revoked: the delivery is then failed without being sent.
	URL    string `db:"url"`
	Secret string `db:"secret"`
	// PreviousSecret is the secret the last webhookSecretRotate replaced,
	// while its overlap lasts ("" otherwise): deliveries carry a signature
	// with each.
	PreviousSecret string `db:"previous_secret"`
	// SecretError says why the secret could not be opened (sealed with a key
	// this server lacks); the attempt is then not sent and retried later.
	SecretError string `db:"-"`

	Payload   json.RawMessage `db:"payload"`
	CreatedAt time.Time       `db:"created_at"`
}

// ClaimWebhookDeliveries takes up to limit due deliveries for one attempt
// each, holding each one's lease for lease (longer than an attempt may
// last), so that no other worker sends it meanwhile; it counts the attempt.
// A delivery whose lease ran out (its worker died) is due again.
func (db *DB) ClaimWebhookDeliveries(ctx context.Context, limit int, lease time.Duration) ([]*WebhookAttempt, error) {
	var rows []*WebhookAttempt
	err := db.SelectContext(ctx, &rows, `WITH due AS (
			SELECT id FROM webhook_deliveries
			WHERE status = 'PENDING' AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
			ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
		), claimed AS (
			UPDATE webhook_deliveries d SET lease_until = now() + $2::interval, attempts = d.attempts + 1, last_attempt_at = now()
			FROM due WHERE d.id = due.id
			RETURNING d.id, d.attempts, d.event_id, d.subscription_id, d.app_id
		)
		SELECT c.id, c.attempts, e.id AS event_id, e.topic, e.payload, e.created_at,
			coalesce(s.url, '') AS url, coalesce(a.webhook_secret, '') AS secret,
			CASE WHEN a.webhook_secret_previous_until > now() THEN coalesce(a.webhook_secret_previous, '') ELSE '' END AS previous_secret,
			c.app_id
		FROM claimed c JOIN webhook_events e ON e.id = c.event_id
		LEFT JOIN webhook_subscriptions s ON s.id = c.subscription_id
		LEFT JOIN apps a ON a.id = c.app_id AND a.revoked_at IS NULL
		ORDER BY c.id`, limit, interval(lease))
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	for _, r := range rows {
		if r.Secret != "" {
			secret, err1 := db.WebhookKeys.open(r.AppID, r.Secret)
			previous, err2 := db.WebhookKeys.open(r.AppID, r.PreviousSecret)
			if err := errors.Join(err1, err2); err != nil {
				r.SecretError = err.Error()
			}
			r.Secret, r.PreviousSecret = secret, previous
		}
		r.Body, err = json.Marshal(struct {
			ID        string          `json:"id"`
			Topic     string          `json:"topic"`
			CreatedAt time.Time       `json:"createdAt"`
			Data      json.RawMessage `json:"data"`
		}{r.EventID, r.Topic, r.CreatedAt.UTC(), r.Payload})
		if err != nil {
			return nil, fmt.Errorf("webhook body: %w", err)
		}
	}
	return rows, nil
}

// WebhookOutcome is what one attempt came to.
type WebhookOutcome struct {
	// Delivered is true for a 2xx answer.
	Delivered bool
	// ResponseCode is the receiver's HTTP status, 0 when none came.
	ResponseCode int
	// ResponseBody is the start of the receiver's answer (at most
	// MaxStoredResponseBody bytes are kept).
	ResponseBody string
	// Error says why no answer came (a refused address, a timeout).
	Error string
	// RetryIn is when to try again if not delivered; the delivery is FAILED
	// instead when that is past its maximum age.
	RetryIn time.Duration
	// Final fails the delivery now, without retries (its subscription was
	// deleted or its app revoked).
	Final bool
}

// FinishWebhookAttempt records an attempt's outcome and lets go of the
// delivery's lease: DELIVERED, PENDING again after o.RetryIn, or FAILED when
// the next attempt would fall after maxAge from the start of its attempts.
// It does nothing if the attempt is no longer the delivery's latest.
func (db *DB) FinishWebhookAttempt(ctx context.Context, a *WebhookAttempt, o WebhookOutcome, maxAge time.Duration) error {
	body := o.ResponseBody
	if len(body) > MaxStoredResponseBody {
		body = body[:MaxStoredResponseBody]
	}
	body = cleanText(body)
	var code *int
	if o.ResponseCode != 0 {
		code = &o.ResponseCode
	}
	return db.retry(ctx, func() error {
		_, err := db.ExecContext(ctx, `UPDATE webhook_deliveries SET lease_until = NULL,
				last_response_code = $3, last_response_body = nullif($4, ''), last_error = nullif($5, ''),
				status = CASE WHEN $6 THEN 'DELIVERED'
				              WHEN $9 OR now() + $7::interval > window_start + $8::interval THEN 'FAILED'
				              ELSE 'PENDING' END,
				delivered_at = CASE WHEN $6 THEN now() ELSE delivered_at END,
				settled_at = CASE WHEN $6 OR $9 OR now() + $7::interval > window_start + $8::interval THEN now() END,
				next_attempt_at = CASE WHEN $6 THEN next_attempt_at ELSE now() + $7::interval END
			WHERE id = $1 AND attempts = $2 AND status = 'PENDING'`,
			a.DeliveryID, a.Attempt, code, body, cleanText(o.Error), o.Delivered, interval(o.RetryIn), interval(maxAge), o.Final)
		return err
	})
}

// ReleaseWebhookAttempt lets go of a claimed delivery without an outcome
// (its worker is stopping): it is due again at once, and the attempt does
// not count.
func (db *DB) ReleaseWebhookAttempt(ctx context.Context, a *WebhookAttempt) error {
	_, err := db.ExecContext(ctx, `UPDATE webhook_deliveries SET lease_until = NULL, attempts = attempts - 1
		WHERE id = $1 AND attempts = $2 AND status = 'PENDING'`, a.DeliveryID, a.Attempt)
	return err
}

// interval spells a duration for PostgreSQL's interval type.
func interval(d time.Duration) string {
	return fmt.Sprintf("%d milliseconds", d.Milliseconds())
}

// cleanText makes s storable as PostgreSQL text: valid UTF-8 without NULs.
func cleanText(s string) string {
	b := []rune{}
	for _, r := range s {
		if r == 0 || r == '\uFFFD' {
			continue
		}
		b = append(b, r)
	}
	return string(b)
}
