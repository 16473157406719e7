// Package gan is the game itself: the seed's losses and the alternating
// trainer.
//
// The discriminator D descends V_D(G, D) = E_P[softplus(-D(x))] +
// E_Q[softplus(D(G(z)))] (the seed's eq. 1) with G held fixed; then the
// generator G descends V_G = -V_D (eq. 2) through the updated D, whose
// parameters are not touched (autograd only differentiates what is asked
// for). These are the moves the seed numbers ① and ②, and Step performs
// them in that order, as PyTorch's DCGAN example labels them "(1) Update D
// network" and "(2) Update G network".
package gan
