package graph

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"

	"showcase/auth"
)

// Websocket limits.
const (
	wsInitTimeout  = 5 * time.Second
	wsKeepAlive    = 15 * time.Second
	wsMaxFrameSize = 64 << 10
)

// websocketTransport speaks graphql-transport-ws (and the legacy
// graphql-ws). Browsers may connect only from allowed origins; the caller
// authenticates in connection_init and the connection ends when its token
// expires.
func (r *Resolver) websocketTransport() transport.Websocket {
	limit := int64(wsMaxFrameSize)
	return transport.Websocket{
		Implementation: transport.CoderWebsocketImplementation{AcceptOptions: coderws.AcceptOptions{
			OriginPatterns: r.AllowedOrigins,
		}},
		InitFunc:              r.websocketInit,
		InitTimeout:           wsInitTimeout,
		KeepAlivePingInterval: wsKeepAlive,
		PayloadReadLimit:      &limit,
	}
}

func (r *Resolver) websocketInit(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	ctx = WithSubscriptionCounter(ctx)
	header := payload.Authorization()
	if header == "" {
		return ctx, nil, nil // anonymous viewers may watch
	}
	token, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return nil, nil, errors.New("the Authorization payload must be \"Bearer <token>\"")
	}
	v, claims, err := auth.ViewerForToken(ctx, r.Tokens, r.DB, strings.TrimSpace(token))
	if err != nil {
		return nil, nil, auth.ErrInvalidToken
	}
	ctx = auth.WithViewer(ctx, v)
	ctx = transport.AppendCloseReason(ctx, "token expired")
	// The deadline ends the connection's context, which closes the socket.
	ctx, cancel := context.WithDeadline(ctx, claims.ExpiresAt)
	go func() {
		<-ctx.Done()
		cancel()
	}()
	return ctx, nil, nil
}
