package graph

import (
	"context"
	"strings"

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
	return r.session(u)
}

func (r *Resolver) logIn(ctx context.Context, in model.LogInInput) (*model.AuthPayload, error) {
	invalid := &model.AuthPayload{UserErrors: []*model.UserError{{
		Message: "email or password is incorrect", Code: model.UserErrorCodeInvalidCredentials,
	}}}
	u, err := r.DB.UserByEmail(ctx, strings.TrimSpace(in.Email))
	if store.ErrorCode(err) == store.ENotFound {
		auth.SpendPasswordCheck(in.Password)
		return invalid, nil
	}
	if err != nil {
		return nil, err
	}
	if !auth.CheckPassword(u.PasswordHash, in.Password) {
		return invalid, nil
	}
	return r.session(u)
}

func (r *Resolver) session(u *store.User) (*model.AuthPayload, error) {
	token, err := r.Tokens.Issue(u.ID)
	if err != nil {
		return nil, err
	}
	return &model.AuthPayload{Token: &token, User: u, UserErrors: []*model.UserError{}}, nil
}

// requireViewer returns the signed-in caller or UNAUTHENTICATED.
func requireViewer(ctx context.Context) (auth.Viewer, error) {
	v := auth.ViewerFrom(ctx)
	if !v.SignedIn() {
		return v, errUnauthenticated
	}
	return v, nil
}
