// A tiny program to package: it only prints a greeting.
package main

import "fmt"

func main() {
	fmt.Println("Welcome aboard: this Go binary is running in a container.")
}
