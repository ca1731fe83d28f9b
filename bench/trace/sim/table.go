package sim

import (
	"fmt"
	"strings"
)

// Table renders rows of results (one row per policy, one column per size
// in pcts, percent of distinct bytes) as the markdown table of issue 17.
func Table(pcts []float64, rows [][]Result) string {
	var b strings.Builder
	var sz []string
	for _, p := range pcts {
		sz = append(sz, fmt.Sprintf("%g%%", p))
	}
	fmt.Fprintf(&b, "| policy | HR %s | BHR %s |\n|---|---|---|\n", strings.Join(sz, " / "), strings.Join(sz, " / "))
	for _, row := range rows {
		if len(row) == 0 {
			continue
		}
		var hr, bhr []string
		for _, r := range row {
			hr = append(hr, fmt.Sprintf("%.3f", r.HitRatio))
			bhr = append(bhr, fmt.Sprintf("%.3f", r.ByteHitRatio))
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", row[0].Policy, strings.Join(hr, " / "), strings.Join(bhr, " / "))
	}
	return b.String()
}
