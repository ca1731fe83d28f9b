package errpage

import "errors"

var (
	// ErrTemplate means a template in the override directory could not be
	// parsed or executed; the error names the file.
	ErrTemplate = errors.New("errpage: bad template")
	// ErrNoTemplates means the override directory holds no .html file.
	ErrNoTemplates = errors.New("errpage: no .html template in the directory")
)
