package graph

import (
	"context"
	"strings"
	"time"

	"showcase/auth"
	"showcase/graph/model"
	"showcase/store"
)

func (r *Resolver) signUp(ctx context.Context, in model.SignUpInput) (*model.AuthPayload, error) {
	email := strings.TrimSpace(in.Email)
	problems := store.ValidateSignUp(email, in.Handle, in.DisplayName)
	if msg := auth.PasswordProblem(in.Password); msg != "" {
		problems = append(problems, store.FieldErrorf(store.EInvalid, "password", "%s", msg))
	}
	if len(problems) > 0 {
		return &model.AuthPayload{UserErrors: problemsToUserErrors(problems, "input")}, nil
	}
	proof, ue := guestProof(in.Guest)
	if ue != nil {
		return &model.AuthPayload{UserErrors: ue}, nil
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	u, err := r.DB.CreateUser(ctx, store.NewUser{
		Email: email, PasswordHash: hash, Handle: in.Handle, DisplayName: strings.TrimSpace(in.DisplayName),
	})
	if err != nil {
		ue, err := userErrorsFrom(err, "input")
		return &model.AuthPayload{UserErrors: ue}, err
	}
	if _, err := r.DB.AdoptGuest(ctx, u.ID, u.Email, proof); err != nil {
		return nil, err
	}
	r.mergeDevice(ctx, in.DeviceID, u.ID)
	return r.session(ctx, u)
}

func (r *Resolver) logIn(ctx context.Context, in model.LogInInput) (*model.AuthPayload, error) {
	invalid := &model.AuthPayload{UserErrors: []*model.UserError{{
		Message: "email or password is incorrect", Code: model.UserErrorCodeInvalidCredentials,
	}}}
	proof, ue := guestProof(in.Guest)
	if ue != nil {
		return &model.AuthPayload{UserErrors: ue}, nil
	}
	u, err := r.DB.UserByEmail(ctx, strings.TrimSpace(in.Email))
	if store.ErrorCode(err) == store.ENotFound {
		auth.SpendPasswordCheck(in.Password)
		return invalid, nil
	}
	if err != nil {
		return nil, err
	}
	if u.IsGuest {
		auth.SpendPasswordCheck(in.Password)
		return invalid, nil
	}
	if !auth.CheckPassword(u.PasswordHash, in.Password) {
		return invalid, nil
	}
	if _, err := r.DB.AdoptGuest(ctx, u.ID, u.Email, proof); err != nil {
		return nil, err
	}
	r.mergeDevice(ctx, in.DeviceID, u.ID)
	return r.session(ctx, u)
}

// session starts a session: a short-lived access token and a refresh token.
func (r *Resolver) session(ctx context.Context, u *store.User) (*model.AuthPayload, error) {
	refresh, sessionID, err := r.DB.IssueRefreshToken(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	noteWriter(ctx, u.ID) // a new account's first reads must find it
	return r.accessPayload(u, refresh, sessionID)
}

// accessPayload issues an access token tied to the session, so that ending
// the session (logOut, a reused refresh token) ends the token too.
func (r *Resolver) accessPayload(u *store.User, refresh string, sessionID int64) (*model.AuthPayload, error) {
	token, err := r.Tokens.IssueSession(u.ID, sessionID)
	if err != nil {
		return nil, err
	}
	expires := time.Now().Add(r.Tokens.TTL())
	return &model.AuthPayload{Token: &token, TokenExpiresAt: &expires, RefreshToken: &refresh, User: u, UserErrors: []*model.UserError{}}, nil
}

func (r *Resolver) refreshSession(ctx context.Context, refreshToken string) (*model.AuthPayload, error) {
	next, userID, sessionID, err := r.DB.RotateRefreshToken(ctx, refreshToken)
	if store.ErrorCode(err) == store.EUnauthorized {
		return &model.AuthPayload{UserErrors: fieldError("refreshToken", model.UserErrorCodeInvalidRefreshToken, err.(*store.Error).Message)}, nil
	}
	if err != nil {
		return nil, err
	}
	u, err := r.DB.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	return r.accessPayload(u, next, sessionID)
}

// requireViewer returns the signed-in caller or UNAUTHENTICATED.
func requireViewer(ctx context.Context) (auth.Viewer, error) {
	v := auth.ViewerFrom(ctx)
	if !v.SignedIn() {
		return v, errUnauthenticated
	}
	return v, nil
}
