package auth

import (
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/GehirnInc/crypt"
	"github.com/sergeymakinen/go-crypt/des"
	"golang.org/x/crypto/bcrypt"
)

// dummyUser builds the entry unknown Basic users are checked against: the
// hash of a random, thrown-away password in the scheme and parameters of
// the costliest entry in users (bcrypt at the highest cost, then
// SHA-512-crypt, SHA-256-crypt, apr1, crypt(3) DES, {SHA}). It matches
// nothing; what matters is that checking it costs what checking the
// costliest real entry costs, so a 407 does not tell by its timing which
// names exist. Entries of a cheaper scheme in the same file still answer
// faster than unknown users. Making it runs one hash per load.
func dummyUser(users map[string]*basicUser) (*basicUser, error) {
	var model *basicUser
	rank, cost := -1, -1
	for _, u := range users {
		if r, c := costRank(u); r > rank || (r == rank && c > cost) {
			model, rank, cost = u, r, c
		}
	}
	var secret [16]byte
	_, _ = rand.Read(secret[:])
	password := []byte(fmt.Sprintf("%x", secret))
	d := &basicUser{kind: hashSHA}
	if model == nil {
		copy(d.sha[:], secret[:])
		return d, nil
	}
	d.kind = model.kind
	var err error
	switch model.kind {
	case hashBcrypt:
		var h []byte
		h, err = bcrypt.GenerateFromPassword(password, cost)
		d.hash = string(h)
	case hashSHA512, hashSHA256, hashAPR1:
		// The model's hash up to its last '$' is the scheme, rounds and
		// salt: the dummy costs the same rounds.
		d.hash, err = crypt.NewFromHash(model.hash).Generate(password, []byte(model.hash[:strings.LastIndexByte(model.hash, '$')]))
	case hashDES:
		d.hash = des.NewHash(string(password[:desMaxPassword]))
	default:
		copy(d.sha[:], secret[:])
	}
	if err != nil {
		return nil, fmt.Errorf("auth: dummy %v hash: %w", model.kind, err)
	}
	return d, nil
}

// costRank orders hash schemes by what a check costs, and bcrypt entries
// by their cost factor.
func costRank(u *basicUser) (rank, cost int) {
	switch u.kind {
	case hashBcrypt:
		c, _ := bcrypt.Cost([]byte(u.hash))
		return 5, c
	case hashSHA512:
		return 4, 0
	case hashSHA256:
		return 3, 0
	case hashAPR1:
		return 2, 0
	case hashDES:
		return 1, 0
	}
	return 0, 0
}
