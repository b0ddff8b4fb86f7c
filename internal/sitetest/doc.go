// Package sitetest is the test harness that the faces of the login flow
// share: a site on a loopback listener with the routes every face's tests
// visit, browsers with cookie jars that follow or stop at redirects, the
// steps those browsers take, a log that tests read, and the floor and the
// interleaved ratio of the middleware benchmarks. What differs per face
// (its options, its middleware, how its pages show the user, the
// emulator's endpoints) stays in the face's own harness. Only tests
// import it.
package sitetest
