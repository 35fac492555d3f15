package model

import (
	"fmt"
	"io"

	"github.com/99designs/gqlgen/graphql"

	"showcase/store"
)

// Upload is a file sent with a GraphQL multipart request.
type Upload graphql.Upload

// MarshalUpload writes an upload's bytes (never used: uploads are inputs).
func MarshalUpload(u Upload) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { _, _ = io.Copy(w, u.File) })
}

// UnmarshalUpload accepts only a file part of a multipart request. Anything
// else (a base64 string, an object) is the client's mistake: BAD_USER_INPUT.
func UnmarshalUpload(v any) (Upload, error) {
	if u, ok := v.(graphql.Upload); ok {
		return Upload(u), nil
	}
	return Upload{}, store.Errorf(store.EInvalid, "an upload must be a file part of a multipart request (the GraphQL multipart request spec), not a %s",
		jsonKind(v))
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "list"
	default:
		return fmt.Sprintf("%T", v)
	}
}
