package tuning

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Report writes settings as an aligned table with the columns SETTING,
// CURRENT, RECOMMENDED, STATUS and EFFECT; STATUS is "ok", "CHANGE" or, for
// a value that could not be read, "unknown". It is what `edgeproxy tune`
// prints. Write errors are not reported: the table is for a terminal.
func Report(w io.Writer, settings []Setting) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tCURRENT\tRECOMMENDED\tSTATUS\tEFFECT")
	for _, s := range settings {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, s.Current, s.Recommended, status(s), s.Effect)
	}
	tw.Flush()
}

func status(s Setting) string {
	switch {
	case s.OK:
		return "ok"
	case s.Current == Unavailable:
		return "unknown"
	default:
		return "CHANGE"
	}
}

// Warnings returns one line for each setting on the running machine that
// caps the configured load: somaxconn below the listen backlog, an
// open-file limit (or fs.file-max) below two sockets per connection plus
// headroom, fewer ephemeral ports than connections, a CPU quota below the
// event loops. It is meant to be logged once at start-up; settings that could not
// be read are left out.
func Warnings(load Load) []string {
	return warnings(systemHost(), load)
}

func warnings(h host, l Load) []string {
	var out []string
	for _, r := range rules(l) {
		if !r.caps {
			continue
		}
		s := r.setting(h)
		if s.OK || s.Current == Unavailable {
			continue
		}
		out = append(out, fmt.Sprintf("%s is %s, want %s: %s", s.Name, s.Current, s.Recommended, s.Effect))
	}
	return out
}
