package gateway

func (s *Server) registerConfigMethods(rt *runtime) {}
