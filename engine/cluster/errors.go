package cluster

import "errors"

var (
	// ErrNoMembers means a table was built with no members.
	ErrNoMembers = errors.New("cluster: no members")
	// ErrEmptyName means a member has no name to hash.
	ErrEmptyName = errors.New("cluster: a member has no name")
	// ErrDuplicateName means two members share a name, and so a hash.
	ErrDuplicateName = errors.New("cluster: two members have the same name")
	// ErrWeight means a member's weight is not a positive finite number.
	ErrWeight = errors.New("cluster: a member's weight must be a positive number")
)
