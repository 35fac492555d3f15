package graph

import (
	"context"
	"strings"

	"showcase/graph/model"
	"showcase/store"
)

// videoPoster is a video's poster as an Image (id null: not a product
// medium), or nil when it has none.
func (r *Resolver) videoPoster(ctx context.Context, v *store.Video) (*model.Image, error) {
	p, err := loadersFrom(ctx).VideoPoster.Load(ctx, v.ID)
	if err != nil || p == nil {
		return nil, err
	}
	w, h := p.Width, p.Height
	// The caption without its hashtags says what the video shows.
	alt, _, _ := strings.Cut(v.Caption, "#")
	alt = strings.TrimSpace(alt)
	return &model.Image{URL: r.mediaURL(p.StorageName), AltText: &alt, Width: &w, Height: &h}, nil
}
