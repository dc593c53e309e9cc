// PortableMath: placeholder until its issue lands.
