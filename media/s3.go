package media

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config says where an S3-compatible bucket is (AWS S3, MinIO, Cloudflare
// R2, Backblaze B2, Ceph, …) and how files in it are reached.
type S3Config struct {
	// Endpoint is the service's URL: https://s3.eu-west-1.amazonaws.com,
	// or http://127.0.0.1:9000 for a local server (http is accepted only
	// to a loopback address).
	Endpoint string
	// Bucket must exist already; NewS3 checks that it does.
	Bucket string
	// Region is the bucket's region ("us-east-1" when empty).
	Region string
	// AccessKeyID and SecretAccessKey sign the requests (AWS Signature V4).
	AccessKeyID, SecretAccessKey string
	// Prefix is put before every name (e.g. "media/"), so the bucket can
	// hold other things; the orphan sweep lists only under it.
	Prefix string
	// PublicURL, when set, is the origin (a CDN or the bucket's public
	// website) clients fetch files from: URL(name) is PublicURL + "/" +
	// Prefix + name. Empty: files are served by this server at /media/,
	// read from the bucket.
	PublicURL string
}

// S3 stores media as objects in an S3-compatible bucket, each with its
// content type and "Cache-Control: public, max-age=31536000, immutable".
type S3 struct {
	client         *minio.Client
	bucket, prefix string
	publicURL      string
}

var _ Store = (*S3)(nil)

// NewS3 connects to the bucket cfg names and checks that it exists.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("media: the S3 endpoint must be a URL such as https://s3.eu-west-1.amazonaws.com, not %q", cfg.Endpoint)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("media: the S3 endpoint must be https (http only to a loopback address)")
	}
	if cfg.Bucket == "" || cfg.AccessKeyID == "" || cfg.SecretAccessKey == "" {
		return nil, fmt.Errorf("media: an S3 store needs a bucket, an access key ID and a secret access key")
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	client, err := minio.New(u.Host, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKeyID, cfg.SecretAccessKey, ""),
		Secure: u.Scheme == "https", Region: region, BucketLookup: minio.BucketLookupAuto,
	})
	if err != nil {
		return nil, fmt.Errorf("media: S3 client: %w", err)
	}
	ok, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("media: S3 bucket %q: %w", cfg.Bucket, err)
	}
	if !ok {
		return nil, fmt.Errorf("media: S3 bucket %q does not exist", cfg.Bucket)
	}
	return &S3{client: client, bucket: cfg.Bucket, prefix: cfg.Prefix, publicURL: strings.TrimRight(cfg.PublicURL, "/")}, nil
}

// Put implements Store. The object is always written (again): the same
// name holds the same bytes, and writing it again renews its LastModified,
// which the orphan sweep's grace period counts from.
func (s *S3) Put(ctx context.Context, name, contentType string, r io.Reader) error {
	if !ValidName(name) {
		return fmt.Errorf("media: invalid name %q", name)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("media: read: %w", err)
	}
	_, err = s.client.PutObject(ctx, s.bucket, s.prefix+name, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
		ContentType: contentType, CacheControl: "public, max-age=31536000, immutable",
	})
	if err != nil {
		return fmt.Errorf("media: S3 put: %w", err)
	}
	return nil
}

// Open implements Store.
func (s *S3) Open(ctx context.Context, name string) (io.ReadSeekCloser, string, error) {
	if !ValidName(name) {
		return nil, "", ErrNotFound
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.prefix+name, minio.GetObjectOptions{})
	if err != nil {
		return nil, "", fmt.Errorf("media: S3 get: %w", err)
	}
	info, err := obj.Stat()
	if err != nil {
		obj.Close()
		if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
			return nil, "", ErrNotFound
		}
		return nil, "", fmt.Errorf("media: S3 get: %w", err)
	}
	ct, _ := ContentTypeForExt(name[strings.LastIndexByte(name, '.')+1:])
	if ct == "" {
		ct = info.ContentType
	}
	return obj, ct, nil
}

// List implements Store with ListObjectsV2 (StartAfter, MaxKeys).
func (s *S3) List(ctx context.Context, after string, limit int) ([]Stored, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing once limit is reached
	opts := minio.ListObjectsOptions{Prefix: s.prefix, MaxKeys: limit}
	if after != "" {
		opts.StartAfter = s.prefix + after
	}
	var out []Stored
	for obj := range s.client.ListObjects(ctx, s.bucket, opts) {
		if obj.Err != nil {
			return nil, fmt.Errorf("media: S3 list: %w", obj.Err)
		}
		name := strings.TrimPrefix(obj.Key, s.prefix)
		if !ValidName(name) {
			continue
		}
		out = append(out, Stored{Name: name, ModTime: obj.LastModified})
		if len(out) >= limit {
			break
		}
	}
	return out, nil
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, name string) error {
	if !ValidName(name) {
		return fmt.Errorf("media: invalid name %q", name)
	}
	err := s.client.RemoveObject(ctx, s.bucket, s.prefix+name, minio.RemoveObjectOptions{})
	if err != nil && minio.ToErrorResponse(err).Code != minio.NoSuchKey {
		return fmt.Errorf("media: S3 delete: %w", err)
	}
	return nil
}

// URL implements Store.
func (s *S3) URL(name string) string {
	if s.publicURL != "" {
		return s.publicURL + "/" + s.prefix + name
	}
	return URLPrefix + name
}

// isLoopback reports whether host is localhost or a loopback IP.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
