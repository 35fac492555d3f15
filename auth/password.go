package auth

import "golang.org/x/crypto/bcrypt"

// MinPasswordLength is the shortest password sign-up accepts.
const MinPasswordLength = 8

// maxPasswordBytes is bcrypt's input limit; longer input would be silently truncated.
const maxPasswordBytes = 72

// HashPassword returns a bcrypt hash of password.
func HashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	return string(h), err
}

// CheckPassword reports whether password matches hash.
func CheckPassword(hash, password string) bool {
	if len(password) > maxPasswordBytes {
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// PasswordProblem explains why a password is refused, or returns "".
func PasswordProblem(password string) string {
	switch {
	case len(password) < MinPasswordLength:
		return "password must be at least 8 characters"
	case len(password) > maxPasswordBytes:
		return "password must be at most 72 bytes"
	}
	return ""
}

// dummyHash lets a log-in for an unknown email cost as much as a real check,
// so response time does not reveal which emails have accounts.
var dummyHash, _ = HashPassword("showcase-timing-equaliser")

// SpendPasswordCheck does the work of a password check without a user.
func SpendPasswordCheck(password string) {
	CheckPassword(dummyHash, password)
}
