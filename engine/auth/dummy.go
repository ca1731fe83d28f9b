package auth

import (
	"crypto/rand"
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// dummyUser builds the entry unknown Basic users are checked against: a
// bcrypt hash of a random password at the highest cost in users when any
// entry is bcrypt, else an apr1 entry when any is apr1, else an {SHA} entry.
// Its password is random and thrown away, so it matches nothing; what
// matters is that checking it costs what checking the costliest real entry
// costs (apr1 users stay cheaper than unknown ones when the file also has
// bcrypt entries). Making it runs one bcrypt hash per load.
func dummyUser(users map[string]*basicUser) (*basicUser, error) {
	var secret [16]byte
	rand.Read(secret[:])
	kind, cost := hashSHA, 0
	for _, u := range users {
		switch u.kind {
		case hashBcrypt:
			kind = hashBcrypt
			if c, err := bcrypt.Cost(u.hash); err == nil && c > cost {
				cost = c
			}
		case hashAPR1:
			if kind == hashSHA {
				kind = hashAPR1
			}
		}
	}
	d := &basicUser{name: "", kind: kind}
	switch kind {
	case hashBcrypt:
		h, err := bcrypt.GenerateFromPassword(secret[:], cost)
		if err != nil {
			return nil, fmt.Errorf("auth: dummy bcrypt hash: %w", err)
		}
		d.hash = h
	case hashAPR1:
		salt := make([]byte, 8)
		for i := range salt {
			salt[i] = itoa64[secret[i]&0x3f]
		}
		h := apr1(secret[8:], salt)
		d.salt, d.hash = salt, h[:]
	default:
		copy(d.sha[:], secret[:])
	}
	return d, nil
}
