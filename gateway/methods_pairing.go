package gateway

func (s *Server) registerPairingMethods(rt *runtime) {}
