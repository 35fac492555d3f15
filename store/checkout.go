package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"showcase/store/payment"
)

// Limits of one checkout.
const (
	MaxCheckoutLines = 50
	MaxLineQuantity  = 99
)

// Reasons a checkout is refused. The ones marked retryable are answered
// while the same request, retried with the same idempotency key, can still
// succeed; nothing more is ever charged for that key.
const (
	ReasonInsufficientStock = "INSUFFICIENT_STOCK"
	ReasonNotAvailable      = "NOT_AVAILABLE"
	ReasonPriceChanged      = "PRICE_CHANGED"
	ReasonPaymentDeclined   = "PAYMENT_DECLINED"
	// ReasonPaymentUnavailable (retryable): the provider failed before charging.
	ReasonPaymentUnavailable = "PAYMENT_UNAVAILABLE"
	// ReasonPaymentPending (retryable): the provider's answer was lost (a
	// timeout, a crash, the database gone after the charge); the reservation
	// stands until a retry or the reconciler settles it.
	ReasonPaymentPending = "PAYMENT_PENDING"
	ReasonKeyReused      = "IDEMPOTENCY_KEY_REUSED"
	// ReasonInProgress (retryable): another request with the key is running.
	ReasonInProgress = "CHECKOUT_IN_PROGRESS"
	// ReasonCheckoutExpired: the key's reservation was released unpaid.
	ReasonCheckoutExpired = "CHECKOUT_EXPIRED"
	// ReasonCartInCheckout: the cart's lines are being bought by another
	// checkout (another tab, another key).
	ReasonCartInCheckout = "CART_IN_CHECKOUT"
)

// RetryableReasons are the reasons whose request may succeed when retried
// unchanged with the same idempotency key.
var RetryableReasons = map[string]bool{ReasonPaymentUnavailable: true, ReasonPaymentPending: true, ReasonInProgress: true}

// CheckoutLine asks for a quantity of a variant.
type CheckoutLine struct {
	VariantID int64 `json:"v"`
	Quantity  int   `json:"q"`
	// SourceContentID is the content the line is bought from (a cart line's
	// is the content it was added from); nil takes the request's.
	SourceContentID *int64 `json:"s,omitempty"`
	// SeenPriceAmount is the unit price the buyer saw (cart lines); a
	// different current price refuses the checkout instead of charging it.
	SeenPriceAmount *int64 `json:"p,omitempty"`
	// CartLineID is the cart line bought, claimed by the checkout so no
	// other checkout buys it again.
	CartLineID *int64 `json:"c,omitempty"`
}

// CheckoutRequest is a buyer's purchase. Prices come from the database only.
type CheckoutRequest struct {
	BuyerID         int64          `json:"-"`
	IdempotencyKey  string         `json:"-"`
	Lines           []CheckoutLine `json:"lines"`
	SourceContentID *int64         `json:"source,omitempty"`
	ShippingAddress Address        `json:"address"`
	PaymentToken    string         `json:"token"`
	// FromCart marks a checkout of the buyer's cart: its lines carry
	// CartLineID, and the cart lines bought are removed when it is paid.
	FromCart bool `json:"cart"`
	// DeliveryChoices are the shipping rates chosen, by shop id; a shop
	// without a choice ships by its cheapest option (see priceCheckout).
	DeliveryChoices map[int64]int64 `json:"delivery,omitempty"`
	// ExpectedTotal is the total the buyer was shown, in minor units of
	// ExpectedCurrency: a checkout whose total is any other is refused
	// (TOTAL_CHANGED) and nothing is written. nil: no such check (cart
	// lines are then held to the price they were added at).
	ExpectedTotal    *int64 `json:"expected,omitempty"`
	ExpectedCurrency string `json:"expectedCurrency,omitempty"`
	// Email is a guest's email (guest checkouts only): part of the request,
	// so the same key with another email is IDEMPOTENCY_KEY_REUSED.
	Email string `json:"email,omitempty"`
	// DiscountCodes are the discount codes entered (a cart's, for a cart
	// checkout): part of the request, so a retry with the same key uses
	// them once, and the same key with other codes is IDEMPOTENCY_KEY_REUSED.
	DiscountCodes []string `json:"codes,omitempty"`
	// CartKey is a guest cart's key (guest checkouts only; not part of the
	// request's hash): with Email, the reservation records the guest
	// checkout (recordGuestCheckout) in its own transaction.
	CartKey string `json:"-"`
}

// CheckoutResult is the orders made, or why none were.
type CheckoutResult struct {
	Orders []*Order
	// Lines are the orders' lines by order id, as written.
	Lines    map[int64][]*OrderLine
	Problems Problems
	// Replayed is set when the answer repeats an earlier request's.
	Replayed bool
}

// Validate checks the request's shape before anything is locked: the key,
// 1 to MaxCheckoutLines lines of 1 to MaxLineQuantity each, each variant on
// one line only (INVALID on the repeated line's variantId), the address,
// and the payment token.
func (r CheckoutRequest) Validate() Problems {
	var p Problems
	if n := len(r.IdempotencyKey); n == 0 || n > 200 {
		p.add("idempotencyKey", ReasonRequired, "idempotencyKey must be 1 to 200 characters")
	}
	if len(r.Lines) == 0 || len(r.Lines) > MaxCheckoutLines {
		p.add("lines", "", "a checkout has 1 to %d lines", MaxCheckoutLines)
	}
	// One line per variant: tax is rounded per line (cost.go), so a variant
	// split over several lines would be taxed differently from the same
	// quantity on one line.
	seen := make(map[int64]bool, len(r.Lines))
	for i, l := range r.Lines {
		if l.Quantity < 1 || l.Quantity > MaxLineQuantity {
			p.add(fmt.Sprintf("lines.%d.quantity", i), "", "quantity must be 1 to %d", MaxLineQuantity)
		}
		if seen[l.VariantID] {
			p.add(fmt.Sprintf("lines.%d.variantId", i), "", "this variant is already on another line; give each variant once, with its whole quantity")
		}
		seen[l.VariantID] = true
	}
	p = append(p, r.ShippingAddress.Validate("shippingAddress.")...)
	p.text("payment.token", r.PaymentToken, true, 200)
	return p
}

func (r CheckoutRequest) hash() string {
	b, _ := json.Marshal(r)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// providerKey is the idempotency key the payment provider is called with for
// the buyer's key: derived from this database's installation id, the buyer
// and the key, so it is the same on every attempt, in every process, for as
// long as the checkout exists, and never the same as another database's.
func (db *DB) providerKey(ctx context.Context, buyerID int64, key string) (string, error) {
	install, err := db.installationID(ctx)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(strconv.FormatInt(buyerID, 10) + "\x00" + key))
	return "checkout-" + install + "-" + hex.EncodeToString(sum[:16]), nil
}

// PaymentSettings bound the payment path. Zero fields take the defaults.
type PaymentSettings struct {
	// Timeout bounds one provider call (payment.DefaultTimeout).
	Timeout time.Duration
	// SettleAfter is how long after its last attempt an unsettled payment
	// is left to the buyer's retries before the reconciler settles it
	// (DefaultSettleAfter).
	SettleAfter time.Duration
}

// DefaultSettleAfter is PaymentSettings.SettleAfter's default.
const DefaultSettleAfter = time.Minute

func (s PaymentSettings) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return payment.DefaultTimeout
}

// lease is how long a process calling the provider for a checkout holds it:
// the provider call's bound and a margin for the database writes around it.
func (s PaymentSettings) lease() time.Duration { return s.timeout() + 5*time.Second }

func (s PaymentSettings) settleAfter() time.Duration {
	if s.SettleAfter > 0 {
		return s.SettleAfter
	}
	return DefaultSettleAfter
}

// Checkout buys the request's lines: one order per shop. It reserves (the
// key, the pending orders and lines, the payment record and the stock, in
// one transaction), then charges the provider with no lock held, then marks
// the orders paid. The same idempotency key always gets the same answer and
// at most one charge: every attempt calls the provider with the same
// provider key, and an attempt whose outcome was lost is settled by a retry
// or by the reconciler (RunPaymentReconciler).
//
// Errors: user-facing problems come back in CheckoutResult.Problems; an
// error is a failure of the database (retryable when IsRetryable says so).
func (db *DB) Checkout(ctx context.Context, pay payment.Provider, req CheckoutRequest) (CheckoutResult, error) {
	if p := req.Validate(); len(p) > 0 {
		return CheckoutResult{Problems: p}, nil
	}
	// From here on the work must finish even if the client goes away.
	ctx = context.WithoutCancel(ctx)
	deadline := time.Now().Add(claimWait)
	for {
		res, err := db.reserve(ctx, pay.Name(), req)
		if err != nil || len(res.problems) > 0 {
			return CheckoutResult{Problems: cartFields(req, res.problems)}, err
		}
		if res.reserved {
			// The stock taken (committed) shows at once in this process,
			// in the others with the next announcement, before the
			// provider answers: no notification on the hot path. Stock
			// given back when the payment fails is announced by
			// releaseCheckout.
			db.stockChanged(res.products...)
			if res.unflushed {
				if err := db.flushReservation(ctx); err != nil {
					return CheckoutResult{}, err
				}
			}
			return db.pay(ctx, pay, res.attempt, req)
		}
		// The key is taken: replay its answer, or take over its payment.
		out, again, err := db.retryCheckout(ctx, pay, req, deadline)
		if !again {
			return out, err
		}
	}
}

// flushReservation makes durable a reservation that committed without
// waiting for the disk (reserveCommitSQL), before the provider is called or
// the buyer answered: it commits a transaction that writes to the WAL (a
// transactional logical message, prefix "showcase", which nothing reads)
// under the session's synchronous_commit, so its commit waits until the WAL
// is flushed (and, with synchronous replication, sent) up to its own
// commit record, which comes after the reservation's. No row is locked
// meanwhile: concurrent checkouts' flushes share the disk's writes.
//
// An error leaves the reservation's outcome unknown (the database went
// away): the provider has not been called; a retry with the same key
// reserves anew if it was lost, or takes it over once its lease runs out.
func (db *DB) flushReservation(ctx context.Context) error {
	err := db.retry(ctx, func() error {
		_, err := db.ExecContext(ctx, `SELECT pg_logical_emit_message(true, 'showcase', 'reserved')`)
		return err
	})
	if err != nil {
		return fmt.Errorf("flush reservation: %w", err)
	}
	return nil
}

// ReplayCheckout answers a retry of a cart checkout whose cart is already
// empty (its lines were bought by the first attempt): the answer the
// buyer's key got, if the key was used. found is false for an unused key,
// or one whose checkout has no final answer yet.
func (db *DB) ReplayCheckout(ctx context.Context, buyerID int64, key string) (res CheckoutResult, found bool, err error) {
	prior, err := db.checkoutByKey(ctx, buyerID, key)
	if errors.Is(err, errNoCheckout) || (err == nil && prior.Status == "PENDING") {
		return res, false, nil
	}
	if err != nil {
		return res, false, err
	}
	res, _, err = db.priorAnswer(ctx, prior)
	return res, true, err
}

// priorAnswer is the final answer a checkout's key got, if it has one.
func (db *DB) priorAnswer(ctx context.Context, prior priorCheckout) (res CheckoutResult, final bool, err error) {
	switch prior.Status {
	case "PAID":
		orders, lines, err := db.checkoutOrders(ctx, prior.ID)
		return CheckoutResult{Orders: orders, Lines: lines, Replayed: true}, true, err
	case "DECLINED":
		return CheckoutResult{Problems: Problems{FieldErrorf(EInvalid, "payment.token", "%s", prior.Message.String).Because(prior.Code.String)}, Replayed: true}, true, nil
	case "EXPIRED":
		return CheckoutResult{Problems: Problems{FieldErrorf(EInvalid, "idempotencyKey",
			"this checkout expired before it was paid and nothing was charged; check out again with a new idempotencyKey").Because(ReasonCheckoutExpired)}, Replayed: true}, true, nil
	}
	return res, false, nil
}

// cartFields points a cart checkout's line problems at its cartId: the
// client sent no lines (each message names the product at fault).
func cartFields(req CheckoutRequest, p Problems) Problems {
	if !req.FromCart {
		return p
	}
	for _, e := range p {
		if strings.HasPrefix(e.Field, "lines") {
			e.Field = "cartId"
		}
	}
	return p
}

// claimWait bounds how long a retry waits for the request holding its key.
const (
	claimWait = 20 * time.Second
	claimPoll = 20 * time.Millisecond
)

// paymentAttempt is what a process needs to call the provider for a
// reserved checkout whose lease it holds.
type paymentAttempt struct {
	CheckoutID  int64  `db:"checkout_id"`
	ProviderKey string `db:"provider_key"`
	Amount      int64  `db:"amount"`
	Currency    string `db:"currency_code"`
	// plan is the orders as written, when this process wrote them.
	plan *pendingOrders
	// bare: this process wrote the reservation, and it claimed no cart
	// line and redeemed no discount code, so the completion has neither to
	// remove (completeBareSQL). False when not known (a takeover, the
	// reconciler): the completion then looks for both.
	bare bool
}

// pay calls the provider for a reserved checkout whose lease this process
// holds, and settles what it can: paid, declined, or left pending for a
// retry with the same key or the reconciler.
func (db *DB) pay(ctx context.Context, pay payment.Provider, a paymentAttempt, req CheckoutRequest) (CheckoutResult, error) {
	// A provider that panics must not leave the lease held.
	defer func() {
		if p := recover(); p != nil {
			_ = db.releaseLease(ctx, a.CheckoutID)
			panic(p)
		}
	}()
	if a.Amount == 0 {
		// Nothing to pay (discount codes took the whole total and shipping
		// is free): the provider is not asked to charge 0 (Stripe refuses a
		// charge that is not positive).
		return db.completeCheckout(ctx, pay, a, freeRef(a))
	}
	callCtx, cancel := context.WithTimeout(ctx, db.PaymentSettings.timeout())
	ref, payErr := pay.Charge(callCtx, payment.Charge{IdempotencyKey: a.ProviderKey, Token: req.PaymentToken, Amount: a.Amount, CurrencyCode: a.Currency})
	cancel()
	switch {
	case payErr == nil:
		return db.completeCheckout(ctx, pay, a, ref)
	case errors.Is(payErr, payment.ErrDeclined):
		decline := FieldErrorf(EInvalid, "payment.token", "the payment was declined").Because(ReasonPaymentDeclined)
		return CheckoutResult{Problems: Problems{decline}}, db.releaseCheckout(ctx, a.CheckoutID, "DECLINED", decline)
	case errors.Is(payErr, payment.ErrKeyMismatch):
		// The provider has a different payment under this key: nothing was
		// charged for this one, and it never will be under this key.
		logPaymentError(ctx, "charge", a.CheckoutID, payErr)
		reused := FieldErrorf(EInvalid, "idempotencyKey", "the payment provider already has a different payment under this idempotencyKey; nothing was charged; check out again with a new idempotencyKey").Because(ReasonKeyReused)
		return CheckoutResult{Problems: Problems{reused}}, db.releaseCheckout(ctx, a.CheckoutID, "DECLINED", reused)
	case errors.Is(payErr, payment.ErrUnavailable):
		unavailable := FieldErrorf(EInvalid, "payment.token", "the payment provider is unavailable; nothing was charged; retry with the same idempotencyKey").Because(ReasonPaymentUnavailable)
		return CheckoutResult{Problems: Problems{unavailable}}, db.releaseLease(ctx, a.CheckoutID)
	default:
		if !errors.Is(payErr, context.DeadlineExceeded) {
			logPaymentError(ctx, "charge", a.CheckoutID, payErr)
		}
		pending := FieldErrorf(EInvalid, "payment.token", "the payment's outcome is not known yet; retry with the same idempotencyKey: it is never charged twice").Because(ReasonPaymentPending)
		return CheckoutResult{Problems: Problems{pending}}, db.releaseLease(ctx, a.CheckoutID)
	}
}

// freeRef is the payment reference of a checkout with nothing to pay: no
// provider holds it; it names the checkout's provider key, so it is unique
// and the same on every attempt and in every process.
func freeRef(a paymentAttempt) string { return "free-" + a.ProviderKey }

// retryCheckout answers a request whose key is taken: the earlier answer
// when there is one; a takeover of the payment when the checkout is still
// unpaid and nobody is working on it; otherwise it waits, up to deadline,
// for the process that is. again means the key was let go: reserve anew.
func (db *DB) retryCheckout(ctx context.Context, pay payment.Provider, req CheckoutRequest, deadline time.Time) (out CheckoutResult, again bool, err error) {
	for {
		prior, err := db.checkoutByKey(ctx, req.BuyerID, req.IdempotencyKey)
		switch {
		case errors.Is(err, errNoCheckout):
			return CheckoutResult{}, true, nil
		case err != nil:
			return CheckoutResult{}, false, err
		case prior.Hash != req.hash():
			return CheckoutResult{Problems: Problems{FieldErrorf(EInvalid, "idempotencyKey",
				"this idempotencyKey was used for a different checkout").Because(ReasonKeyReused)}}, false, nil
		}
		if out, final, err := db.priorAnswer(ctx, prior); final || err != nil {
			return out, false, err
		}
		a, took, err := db.takeLease(ctx, prior.ID)
		if err != nil {
			return CheckoutResult{}, false, err
		}
		if took {
			out, err := db.pay(ctx, pay, a, req)
			return out, false, err
		}
		if time.Now().After(deadline) {
			return CheckoutResult{Problems: Problems{FieldErrorf(EConflict, "idempotencyKey",
				"a checkout with this idempotencyKey is still in progress; retry with the same idempotencyKey").Because(ReasonInProgress)}}, false, nil
		}
		time.Sleep(claimPoll)
	}
}
