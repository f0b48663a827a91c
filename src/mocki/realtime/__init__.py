"""Live rooms on Socket.IO: one room per interview, sequenced events, resume after a reconnect."""
