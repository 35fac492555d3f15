package graph_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

const signUpMutation = `mutation($in: SignUpInput!) { signUp(input: $in) { token user { id handle displayName isCreator } userErrors { field message code } } }`
const logInMutation = `mutation($in: LogInInput!) { logIn(input: $in) { token user { handle } userErrors { field message code } } }`

type authOut struct {
	Token *string
	User  *struct {
		ID, Handle, DisplayName string
		IsCreator               bool
	}
	UserErrors []userError
}

func TestSignUpAndLogIn(t *testing.T) {
	a := newTestAPI(t)
	signUp := func(in map[string]any) authOut {
		var out struct{ SignUp authOut }
		a.ok("", signUpMutation, map[string]any{"in": in}, &out)
		return out.SignUp
	}
	logIn := func(email, password string) authOut {
		var out struct{ LogIn authOut }
		a.ok("", logInMutation, map[string]any{"in": map[string]any{"email": email, "password": password}}, &out)
		return out.LogIn
	}
	valid := map[string]any{"email": "mia@example.com", "password": "correct horse", "handle": "mia.chen", "displayName": "Mia Chen"}

	t.Run("OK", func(t *testing.T) {
		out := signUp(valid)
		if out.Token == nil || out.User == nil || out.User.Handle != "mia.chen" || len(out.UserErrors) != 0 {
			t.Fatalf("signUp = %+v", out)
		}
		var viewer struct{ Viewer struct{ Handle string } }
		a.ok(*out.Token, `{ viewer { handle } }`, nil, &viewer)
		if viewer.Viewer.Handle != "mia.chen" {
			t.Fatalf("viewer = %+v", viewer)
		}
	})
	t.Run("EmailTaken", func(t *testing.T) {
		in := map[string]any{"email": "MIA@example.com", "password": "another one", "handle": "mia2", "displayName": "Mia"}
		out := signUp(in)
		if out.Token != nil || len(out.UserErrors) != 1 || out.UserErrors[0].Code != "TAKEN" || out.UserErrors[0].Field[1] != "email" {
			t.Fatalf("signUp with a taken email = %+v", out)
		}
	})
	t.Run("InvalidInput", func(t *testing.T) {
		out := signUp(map[string]any{"email": "nope", "password": "short", "handle": "X", "displayName": ""})
		fields := map[string]bool{}
		for _, e := range out.UserErrors {
			fields[e.Field[1]] = true
		}
		for _, f := range []string{"email", "password", "handle", "displayName"} {
			if !fields[f] {
				t.Errorf("no user error for %s: %+v", f, out.UserErrors)
			}
		}
		if out.Token != nil {
			t.Fatal("token issued for invalid input")
		}
	})
	t.Run("LogIn", func(t *testing.T) {
		out := logIn("Mia@Example.com", "correct horse")
		if out.Token == nil || out.User.Handle != "mia.chen" {
			t.Fatalf("logIn = %+v", out)
		}
	})
	t.Run("WrongPassword", func(t *testing.T) {
		for _, out := range []authOut{logIn("mia@example.com", "wrong password"), logIn("nobody@example.com", "whatever1")} {
			if out.Token != nil || len(out.UserErrors) != 1 || out.UserErrors[0].Code != "INVALID_CREDENTIALS" {
				t.Fatalf("logIn with bad credentials = %+v", out)
			}
		}
	})
}

func TestViewerIsNullWhenAnonymous(t *testing.T) {
	a := newTestAPI(t)
	var out struct{ Viewer *struct{ Handle string } }
	a.ok("", `{ viewer { handle } }`, nil, &out)
	if out.Viewer != nil {
		t.Fatalf("anonymous viewer = %+v", out.Viewer)
	}
}

func TestBadTokensAreRejected(t *testing.T) {
	a := newTestAPI(t)
	for name, header := range map[string]string{
		"Garbage":   "Bearer not-a-jwt",
		"NoBearer":  "Token abc",
		"AlgNone":   "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxIiwiaXNzIjoic2hvd2Nhc2UiLCJhdWQiOiJzaG93Y2FzZS1hcGkiLCJleHAiOjQxMDI0NDQ4MDB9.",
		"Oversized": "Bearer " + string(make([]byte, 9000)),
	} {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", header)
			resp := a.serve(req)
			if resp.Status != http.StatusUnauthorized || resp.code() != "UNAUTHENTICATED" {
				t.Fatalf("status %d, errors %+v", resp.Status, resp.Errors)
			}
		})
	}
}
