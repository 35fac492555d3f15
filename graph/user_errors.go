package graph

import (
	"strings"

	"showcase/graph/model"
	"showcase/store"
)

// userErrorsFrom splits an error into user errors (validation and business
// rules, returned in the payload) and anything else (returned as a top-level
// error). prefix is the argument the fields live under, usually "input".
func userErrorsFrom(err error, prefix string) ([]*model.UserError, error) {
	appErr, ok := store.AsError(err)
	if !ok || appErr.Code == store.EUnauthorized || appErr.Code == store.EForbidden {
		return nil, err
	}
	return []*model.UserError{toUserError(appErr, prefix)}, nil
}

// problemsToUserErrors converts validation problems.
func problemsToUserErrors(p store.Problems, prefix string) []*model.UserError {
	out := make([]*model.UserError, len(p))
	for i, e := range p {
		out[i] = toUserError(e, prefix)
	}
	return out
}

func toUserError(e *store.Error, prefix string) *model.UserError {
	ue := &model.UserError{Message: e.Message, Code: userErrorCode(e)}
	if e.Field != "" {
		if prefix != "" {
			ue.Field = append(ue.Field, prefix)
		}
		ue.Field = append(ue.Field, strings.Split(e.Field, ".")...)
	}
	return ue
}

func userErrorCode(e *store.Error) model.UserErrorCode {
	if e.Reason != "" {
		if c := model.UserErrorCode(e.Reason); c.IsValid() {
			return c
		}
	}
	if e.Code == store.ENotFound {
		return model.UserErrorCodeNotFound
	}
	return model.UserErrorCodeInvalid
}

// fieldError is a single user error about one argument.
func fieldError(field string, code model.UserErrorCode, msg string) []*model.UserError {
	return []*model.UserError{{Field: strings.Split(field, "."), Message: msg, Code: code}}
}
