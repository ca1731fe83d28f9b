package ftp

import (
	"errors"
	"fmt"
)

var (
	// ErrBadURL means an ftp:// URL whose path, user or password does not
	// decode, or decodes to a CR, LF or NUL.
	ErrBadURL = errors.New("ftp: invalid URL")
	// ErrLineTooLong means the server sent a reply line or a listing line
	// longer than MaxLine bytes.
	ErrLineTooLong = errors.New("ftp: reply or listing line too long")
	// ErrListingTooLarge means a directory listing of more than MaxListing
	// bytes.
	ErrListingTooLarge = errors.New("ftp: directory listing too large")
	// ErrTruncated means a transfer ended without the server's final
	// "transfer complete" reply.
	ErrTruncated = errors.New("ftp: transfer did not complete")
)

// ReplyError is an FTP server reply that ended an operation: its code and
// its text, for the error page.
type ReplyError struct {
	Code int
	Text string
}

func (e *ReplyError) Error() string { return fmt.Sprintf("ftp: server replied %d %s", e.Code, e.Text) }
