package cache

import "errors"

// Sentinel errors. Writers and readers return exactly these values, so callers
// compare with errors.Is (or ==) and never by text.
var (
	// ErrTooLarge means the body grew past Options.MaxObject, or the stored
	// form of the response (key, metadata, header block) does not fit an
	// entry. A Writer that returns it is dead and stores nothing; a
	// FollowReader that returns it saw the leader give up, and the engine must
	// fetch for that client itself.
	ErrTooLarge = errors.New("cache: object larger than MaxObject")

	// ErrLength means the body written does not match the response's
	// Content-Length: more bytes than declared, or fewer at Commit.
	ErrLength = errors.New("cache: body length does not match Content-Length")

	// ErrAborted means the writer was aborted before the body was complete.
	ErrAborted = errors.New("cache: fill aborted")

	// ErrNotStorable means the response may not be stored (RFC 9111 §3), so it
	// is neither committed nor shared with followers.
	ErrNotStorable = errors.New("cache: response not storable")

	// ErrClosed means a Writer was used after Commit or Abort, or a
	// FollowReader after Close.
	ErrClosed = errors.New("cache: writer or reader already finished")

	// ErrNoSpace means the large-object tier could not make room: the bytes it
	// holds are all pinned by responses still being sent.
	ErrNoSpace = errors.New("cache: large tier full of objects in use")

	// ErrNotAdmitted means the admission policy (Options.Admission) judged
	// the object less likely to be requested again than the objects it would
	// displace: a full tier keeps them and the response is only passed on.
	ErrNotAdmitted = errors.New("cache: not admitted")

	// ErrNotShared means the leader of a fill did not share its response
	// (Flight.Cancel, or a response that is not storable): a follower must
	// fetch for itself.
	ErrNotShared = errors.New("cache: leader did not share the response")

	// ErrVaryMismatch means the leader's response varies on request fields
	// whose values differ in the follower's request, so it may not be used for
	// that request (RFC 9111 §4.1).
	ErrVaryMismatch = errors.New("cache: response varies on fields that differ in this request")
)
