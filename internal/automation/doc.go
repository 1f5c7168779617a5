// Package automation holds what answers and follows up on customers without a person: bot
// modules and the triggers that send them (module*.go, trigger*.go), and tags with their
// effects. It knows nothing of HTTP; every send goes through the messaging service.
package automation
