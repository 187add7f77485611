package ports

import "errors"

// IsAddrInUse reports whether err (a listen or bind error, however wrapped)
// says the address is already taken: EADDRINUSE on Unix, WSAEADDRINUSE on
// Windows. It looks at the errno in the chain, never at the text, which
// differs between systems and locales.
func IsAddrInUse(err error) bool {
	return err != nil && errors.Is(err, errAddrInUse)
}
