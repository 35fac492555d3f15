package store

import (
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Problems collects every validation error of one input, so a client can fix
// them all at once.
type Problems []*Error

// firstPerField keeps the first problem about each input field, so that one
// refused input gets one error: a variant no longer sold is not also "not a
// product card on that content", and a checkout's unknown sourceContentId
// is reported once, not once per line.
func (p Problems) firstPerField() Problems {
	seen := make(map[string]bool, len(p))
	out := p[:0:0]
	for _, e := range p {
		if e.Field != "" && seen[e.Field] {
			continue
		}
		seen[e.Field] = true
		out = append(out, e)
	}
	return out
}

func (p *Problems) add(field, reason, format string, args ...any) {
	*p = append(*p, FieldErrorf(EInvalid, field, format, args...).Because(reason))
}

// text checks a required or optional string's length in characters.
func (p *Problems) text(field, value string, required bool, max int) {
	n := utf8.RuneCountInString(strings.TrimSpace(value))
	switch {
	case required && n == 0:
		p.add(field, ReasonRequired, "%s is required", field)
	case n > max:
		p.add(field, ReasonTooLong, "%s must be at most %d characters", field, max)
	}
}

func (p *Problems) tags(field string, tags []string) {
	if len(tags) > 20 {
		p.add(field, "", "at most 20 tags")
	}
	for i, t := range tags {
		if !tagPattern.MatchString(t) {
			p.add(fmt.Sprintf("%s.%d", field, i), "", "tags are 1 to %d lowercase letters, digits, - or _", MaxTagLength)
		}
	}
}

// MaxTagLength is the longest tag a product or video may carry, in bytes (a
// tag is ASCII: lowercase letters, digits, - or _, so bytes are characters).
// A filter naming a longer tag can match nothing and is refused.
const MaxTagLength = 40

var (
	handlePattern     = regexp.MustCompile(`^[a-z0-9][a-z0-9._]{2,29}$`)
	shopHandlePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,39}$`)
	tagPattern        = regexp.MustCompile(`^[a-z0-9_-]{1,` + strconv.Itoa(MaxTagLength) + `}$`)
)

// ValidateSignUp checks a new account's public fields.
func ValidateSignUp(email, handle, displayName string) Problems {
	var p Problems
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email || len(email) > 254 {
		p.add("email", "", "email must be a valid address like name@example.com")
	}
	if !handlePattern.MatchString(handle) {
		p.add("handle", "", "handle must be 3 to 30 lowercase letters, digits, dots and underscores")
	}
	p.text("displayName", displayName, true, 60)
	return p
}

// Validate checks a new shop.
func (in NewShop) Validate() Problems {
	var p Problems
	if !shopHandlePattern.MatchString(in.Handle) {
		p.add("handle", "", "handle must be 2 to 40 lowercase letters, digits and dashes")
	}
	p.text("name", in.Name, true, 100)
	p.text("description", in.Description, false, 2000)
	if in.OperatingModel != SelfOperated && in.OperatingModel != FullyManaged {
		p.add("operatingModel", "", "unknown operating model")
	}
	if !ValidCurrencyCode(in.CurrencyCode) {
		p.add("currencyCode", "", "currency code must be three capital letters, e.g. USD")
	}
	return p
}

// Validate checks a shop update.
func (upd ShopUpdate) Validate() Problems {
	var p Problems
	if upd.Name != nil {
		p.text("name", *upd.Name, true, 100)
	}
	if upd.Description != nil {
		p.text("description", *upd.Description, false, 2000)
	}
	return p
}

// Limits on products.
const (
	MaxVariantsPerProduct = 100
	MaxStock              = 1_000_000
)

// Validate checks a new product against the currency of its shop.
func (in NewProduct) Validate(shopCurrency string) Problems {
	var p Problems
	p.text("title", in.Title, true, 200)
	p.text("description", in.Description, false, 5000)
	p.tags("tags", in.Tags)
	if !validProductStatus(in.Status) {
		p.add("status", "", "unknown status")
	}
	if len(in.Variants) == 0 || len(in.Variants) > MaxVariantsPerProduct {
		p.add("variants", "", "a product has 1 to %d variants", MaxVariantsPerProduct)
	}
	skus := map[string]bool{}
	for i, v := range in.Variants {
		f := fmt.Sprintf("variants.%d", i)
		p.text(f+".sku", v.SKU, true, 64)
		p.text(f+".title", v.Title, true, 100)
		if skus[v.SKU] {
			p.add(f+".sku", ReasonTaken, "SKU %q appears twice", v.SKU)
		}
		skus[v.SKU] = true
		if v.Price.CurrencyCode != shopCurrency {
			p.add(f+".price.currencyCode", ReasonCurrencyMismatch, "prices must be in the shop's currency, %s", shopCurrency)
		}
		if v.Stock < 0 || v.Stock > MaxStock {
			p.add(f+".stock", "", "stock must be between 0 and %d", MaxStock)
		}
	}
	return p
}

// Validate checks a product update.
func (upd ProductUpdate) Validate() Problems {
	var p Problems
	if upd.Title != nil {
		p.text("title", *upd.Title, true, 200)
	}
	if upd.Description != nil {
		p.text("description", *upd.Description, false, 5000)
	}
	if upd.SetTags {
		p.tags("tags", upd.Tags)
	}
	if upd.Status != nil && !validProductStatus(*upd.Status) {
		p.add("status", "", "unknown status")
	}
	return p
}

// ValidateStock checks an absolute stock level.
func ValidateStock(stock int) Problems {
	var p Problems
	if stock < 0 || stock > MaxStock {
		p.add("stock", "", "stock must be between 0 and %d", MaxStock)
	}
	return p
}

func validProductStatus(s string) bool {
	return s == ProductDraft || s == ProductActive || s == ProductArchived
}

// Limits on content.
const (
	MaxCardsPerVideo     = 20
	MaxProductsPerLive   = 50
	MaxVideoDurationSecs = 3600
)

// Validate checks a new video's own fields (product access is checked by the caller).
func (in NewVideo) Validate() Problems {
	var p Problems
	p.text("caption", in.Caption, true, 2200)
	p.url("playbackUrl", in.PlaybackURL, true)
	p.url("thumbnailUrl", in.ThumbnailURL, false)
	if in.DurationSeconds < 1 || in.DurationSeconds > MaxVideoDurationSecs {
		p.add("durationSeconds", "", "duration must be 1 to %d seconds", MaxVideoDurationSecs)
	}
	p.tags("tags", in.Tags)
	if len(in.ProductIDs) == 0 || len(in.ProductIDs) > MaxCardsPerVideo {
		p.add("productIds", "", "a video carries 1 to %d product cards", MaxCardsPerVideo)
	}
	return p
}

// Validate checks a new live session's own fields.
func (in NewLiveSession) Validate(now time.Time) Problems {
	var p Problems
	p.text("title", in.Title, true, 200)
	if !in.ScheduledStartAt.After(now) || in.ScheduledStartAt.After(now.AddDate(1, 0, 0)) {
		p.add("scheduledStartAt", "", "the start must be in the future, within a year")
	}
	p.tags("tags", in.Tags)
	if len(in.ProductIDs) == 0 || len(in.ProductIDs) > MaxProductsPerLive {
		p.add("productIds", "", "a live session presents 1 to %d products", MaxProductsPerLive)
	}
	return p
}

func (p *Problems) url(field, value string, required bool) {
	if value == "" {
		if required {
			p.add(field, ReasonRequired, "%s is required", field)
		}
		return
	}
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(value) > 2048 {
		p.add(field, "", "%s must be an http(s) URL", field)
	}
}

var countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)
