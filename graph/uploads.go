package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"

	"showcase/auth"
)

// MaxFilesPerUploadRequest is how many files' worth of bytes a multipart
// request may carry: its body may be at most this many times the per-file
// limit, plus MaxBodyBytes for the operations and map parts.
const MaxFilesPerUploadRequest = 4

// uploadRequestBytes bounds a multipart request's body.
func uploadRequestBytes(maxFile int64) int64 {
	return MaxFilesPerUploadRequest*maxFile + MaxBodyBytes
}

// isMultipart reports whether r is a GraphQL multipart request (uploads).
func isMultipart(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == MediaJSON {
		return false // the usual request: no parse
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "multipart/form-data"
}

// guardUpload checks a multipart request before gqlgen reads its files: the
// caller must be signed in (401 UNAUTHENTICATED otherwise: uploads are for
// sellers and apps, and a cross-site form can not send a bearer token); the
// body may be at most maxBytes (413 REQUEST_TOO_LARGE); its first part must
// be `operations`, one JSON object with a query (400 BAD_REQUEST, or
// BATCHING_NOT_SUPPORTED for an array). Refusals go through refuse, which
// counts, logs and answers them. The operation is charged to the caller's
// rate limit inside gqlgen like any other (rateCharge). The parts read are
// put back, so gqlgen's multipart transport reads the whole body. It reports
// whether the request may go on (ok; when not, it has answered), and
// whether it is an upload proper (upload: an operation other than a query,
// mapping at least one file), which StreamsOrUploads reports downstream.
func guardUpload(w http.ResponseWriter, r *http.Request, maxBytes int64, refuse func(status int, code, msg string)) (ok, upload bool) {
	if !auth.ViewerFrom(r.Context()).SignedIn() {
		refuse(http.StatusUnauthorized, "UNAUTHENTICATED", "uploads need a bearer token")
		return false, false
	}
	tooLarge := "the request body exceeds the upload limit of " + humanSize(maxBytes)
	if r.ContentLength > maxBytes {
		refuse(http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", tooLarge)
		return false, false
	}
	_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body := http.MaxBytesReader(w, r.Body, maxBytes)
	var seen bytes.Buffer
	mr := multipart.NewReader(io.TeeReader(body, &seen), params["boundary"])
	part, err := mr.NextPart()
	var big *http.MaxBytesError
	if errors.As(err, &big) {
		refuse(http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", tooLarge)
		return false, false
	}
	if err != nil || part.FormName() != "operations" {
		refuse(http.StatusBadRequest, codeBadRequest, "a multipart request must start with an operations part (the GraphQL multipart request spec)")
		return false, false
	}
	ops, err := io.ReadAll(io.LimitReader(part, MaxBodyBytes+1))
	if err != nil || len(ops) > MaxBodyBytes {
		refuse(http.StatusBadRequest, codeBadRequest, "the operations part could not be read (at most 1 MiB)")
		return false, false
	}
	ops = bytes.TrimSpace(ops)
	if len(ops) > 0 && ops[0] == '[' {
		refuse(http.StatusBadRequest, "BATCHING_NOT_SUPPORTED", "send one operation per request; batches are not supported")
		return false, false
	}
	var peek struct {
		Query         string         `json:"query"`
		OperationName string         `json:"operationName"`
		Variables     map[string]any `json:"variables"`
	}
	if len(ops) == 0 || ops[0] != '{' || json.Unmarshal(ops, &peek) != nil {
		refuse(http.StatusBadRequest, codeBadRequest, "the operations part must be a JSON object with a query")
		return false, false
	}
	// The map is checked before the multipart transport reads any file: it
	// opens a file once per path, so the number of paths is bounded, and a
	// path must name a variable that exists.
	part, err = mr.NextPart()
	if errors.As(err, &big) {
		refuse(http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", tooLarge)
		return false, false
	}
	if err != nil || part.FormName() != "map" {
		refuse(http.StatusBadRequest, codeBadRequest, "a multipart request's second part must be its map (the GraphQL multipart request spec)")
		return false, false
	}
	var fileMap map[string][]string
	raw, err := io.ReadAll(io.LimitReader(part, maxMapBytes+1))
	if err != nil || len(raw) > maxMapBytes || json.Unmarshal(raw, &fileMap) != nil {
		refuse(http.StatusBadRequest, codeBadRequest, "the map part must be a JSON object of file names to lists of variable paths (at most 64 KiB)")
		return false, false
	}
	paths := 0
	for _, ps := range fileMap {
		for _, path := range ps {
			paths++
			if !pathExists(peek.Variables, path) {
				refuse(http.StatusBadRequest, codeBadRequest, "the map names "+strconv.Quote(truncate(path, 100))+", which is not a variable of the operation")
				return false, false
			}
		}
	}
	if len(fileMap) > MaxUploadFiles || paths > MaxUploadFiles {
		refuse(http.StatusBadRequest, codeBadRequest, "a request uploads at most "+strconv.Itoa(MaxUploadFiles)+" files, each to one variable")
		return false, false
	}
	// An upload proper: an operation other than a query that maps a file
	// (a query takes no Upload argument).
	upload = paths > 0 && isMutation(peek.Query, peek.OperationName)
	if r.ContentLength < 0 {
		// A chunked body has no length to check up front, and gqlgen's
		// transport would answer a body that overflows while it reads the
		// files with 422: the rest is spooled (to an unlinked temporary
		// file, within the limit) so an overflow gets the same 413 as a
		// Content-Length over the limit, and gqlgen then sees a body of
		// known length.
		spooled, n, err := spool(body)
		if errors.As(err, &big) {
			refuse(http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", tooLarge)
			return false, false
		}
		if err != nil {
			refuse(http.StatusBadRequest, codeBadRequest, "the request body could not be read")
			return false, false
		}
		r.ContentLength = int64(seen.Len()) + n
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(seen.Bytes()), spooled), spooled}
		return true, upload
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(seen.Bytes()), body), body}
	return true, upload
}

// spool copies the rest of body to a temporary file that is unlinked at
// once (it is gone when closed, or when the process ends), and returns it
// rewound with the number of bytes copied. A *http.MaxBytesError from body
// is returned as is.
func spool(body io.Reader) (*os.File, int64, error) {
	f, err := os.CreateTemp("", "showcase-upload-*")
	if err != nil {
		return nil, 0, err
	}
	_ = os.Remove(f.Name())
	n, err := io.Copy(f, body)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, n, nil
}

// MaxUploadFiles bounds the files of one upload request and the variable
// paths its map names (one media call adds at most this many).
const MaxUploadFiles = 10

// maxMapBytes bounds a multipart request's map part.
const maxMapBytes = 64 << 10

// pathExists reports whether path ("variables.a.0.upload") names a value
// present in the operation's variables (null included), so that the
// multipart transport never writes into a missing map or past a list's end.
func pathExists(variables map[string]any, path string) bool {
	parts := strings.Split(path, ".")
	if len(parts) < 2 || parts[0] != "variables" {
		return false
	}
	var cur any = variables
	for _, p := range parts[1:] {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[p]
			if !ok {
				return false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(v) {
				return false
			}
			cur = v[i]
		default:
			return false
		}
	}
	return cur == nil
}

func humanSize(n int64) string {
	if n%(1<<20) == 0 {
		return itoa(n>>20) + " MiB"
	}
	return itoa(n) + " bytes"
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
